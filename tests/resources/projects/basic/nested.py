"""A project that runs another project: the child run must be nested under this one."""

import importlib.util
import sys

import satchel
import satchel.projects

satchel.log_param("outer", "yes")
print("has_yaml", importlib.util.find_spec("yaml") is not None, flush=True)
submitted = satchel.projects.run(sys.argv[1], entry_point="env")
print(f"nested run {submitted.run_id}")
