"""Logs into the run it was handed, with `import satchel` (not a dependency of the project)."""

import argparse

import satchel

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--name")
parser.add_argument("--steps", type=int)
args, extra = parser.parse_known_args()

satchel.log_param("alpha", args.alpha)  # the same value the runner logged: no conflict
for step in range(args.steps):
    satchel.log_metric("loss", 1.0 / (step + 1), step=step)
satchel.log_metric("some_key", 3)
print(f"hello {args.name} alpha={args.alpha} extra={extra}")
