import sys

print("failing on purpose", flush=True)
sys.exit(int(sys.argv[1]))
