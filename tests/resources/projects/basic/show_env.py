import json
import os
import sys

keys = [
    "SATCHEL_TRACKING_URI",
    "SATCHEL_RUN_ID",
    "SATCHEL_EXPERIMENT_ID",
    "SATCHEL_ENV_MANAGER",
    "SATCHEL_BACKEND",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
]
info = {k: os.environ.get(k) for k in keys}
info["pgid"] = os.getpgid(0)
info["sid"] = os.getsid(0)
info["cwd"] = os.getcwd()
print("ENV " + json.dumps(info), flush=True)
sys.exit(0)
