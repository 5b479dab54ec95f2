"""A Tune sweep tracked the way Ray documents it for MLflow, against the run's server."""

import os

import ray
from ray import tune
from ray.air.integrations.mlflow import MLflowLoggerCallback, setup_mlflow

URI = os.environ["MLFLOW_TRACKING_URI"]  # the satchel server the run logs to


def train(config):
    os.environ.pop("MLFLOW_RUN_ID", None)  # each trial gets a run of its own, not the sweep's
    mlflow = setup_mlflow(
        config,
        tracking_uri=URI,
        experiment_name="tune-setup-mlflow",
        create_experiment_if_not_exists=True,
    )
    for i in range(3):
        mlflow.log_metric("inner", config["index"] + i, step=i)
        tune.report({"score": config["index"] * 10 + i})


ray.init()
tuner = tune.Tuner(
    tune.with_resources(train, {"cpu": 0.5}),
    param_space={"index": tune.grid_search([0, 1, 2, 3])},
    run_config=tune.RunConfig(
        callbacks=[MLflowLoggerCallback(tracking_uri=URI, experiment_name="tune-callback")],
        storage_path=os.path.abspath("ray_results"),
        verbose=0,
    ),
)
print("TRIALS", len(tuner.fit()))
