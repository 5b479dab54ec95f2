"""Logs into its run with `import satchel`, and says which environment it ran in."""

import argparse
import os
import sys

import six

import satchel

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float)
parser.add_argument("--steps", type=int)
args = parser.parse_args()
for step in range(args.steps):
    satchel.log_metric("loss", args.alpha / (step + 1), step=step)
satchel.set_tag("six", six.__version__)
print(f"ENV {sys.prefix} {os.stat(sys.prefix).st_ino}")
print("token seen:", bool(os.environ.get("SATCHEL_TRACKING_TOKEN")))
