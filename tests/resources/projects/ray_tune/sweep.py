"""A Tune sweep: the satchel run is the parent, each trial a child run (the callback), and
each trainable also logs into its own trial's run (setup_satchel)."""

import argparse
import os

import ray
from ray import tune

from satchel.integrations.ray_tune import SatchelLoggerCallback, setup_satchel

parser = argparse.ArgumentParser()
parser.add_argument("--trials", type=int)
parser.add_argument("--iterations", type=int)
parser.add_argument("--fail-trial", type=int)
args = parser.parse_args()


def train(config):
    run = setup_satchel(config)
    for i in range(config["iterations"]):
        if config["index"] == config["fail_trial"] and i == 2:
            raise RuntimeError("this trial fails on purpose")
        tune.report({"score": config["index"] * 10 + i, "loss": 1.0 / (i + 1)})
    run.log_metric("from_trainable", config["index"])


ray.init()
tuner = tune.Tuner(
    tune.with_resources(train, {"cpu": 0.5}),
    param_space={
        "index": tune.grid_search(list(range(args.trials))),
        "iterations": args.iterations,
        "fail_trial": args.fail_trial,
        "nested": {"width": 4},
    },
    run_config=tune.RunConfig(
        callbacks=[SatchelLoggerCallback()],
        storage_path=os.path.abspath("ray_results"),
        verbose=0,
    ),
)
results = tuner.fit()
print("TRIALS", len(results), "ERRORS", len(results.errors))
