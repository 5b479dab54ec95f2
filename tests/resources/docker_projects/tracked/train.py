"""Logs into its run from inside the container, without satchel installed in the image."""

import os
import sys

import satchel

alpha = float(sys.argv[sys.argv.index("--alpha") + 1])
satchel.log_metric("rmse", alpha / 2, step=1)
satchel.log_param("cwd", os.getcwd())
with open("outputs.txt", "w") as fh:  # lands in the project dir in mount mode
    fh.write(f"alpha={alpha}\n")
print("trained with alpha", alpha, "mode", os.environ["MODE"])
print("secret length", len(os.environ["SATCHEL_TEST_SECRET"]))
