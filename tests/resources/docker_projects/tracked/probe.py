"""Prints what the container sees, one `key=value` a line, for the tests to read."""

import os
from pathlib import Path


def memory_limit() -> str:
    for name in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        if Path(name).exists():
            return Path(name).read_text().strip()
    return "unknown"


print(f"cwd={os.getcwd()}")
print(f"data={Path('/data/input.txt').read_text().strip()}")
print(f"memory={memory_limit()}")
print(f"extra={os.environ.get('EXTRA', '')}")
print(f"listing={','.join(sorted(os.listdir('.')))}")
print(f"uid={os.getuid()}")
