import sys

import satchel

satchel.log_metric("m", 1.0)
print("hello from a script", sys.argv[1:])
