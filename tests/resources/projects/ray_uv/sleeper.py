"""Says it is running (a metric in its run), then sleeps until stopped."""

import time

import satchel

satchel.log_metric("ready", 1)
print("ready", flush=True)
time.sleep(300)
