#!/usr/bin/env python3
"""Runs a command and fails when its peak resident set exceeded a limit:
  peak_rss.py LIMIT_MIB COMMAND...
Prints the peak in MiB."""
import resource
import subprocess
import sys

limit = float(sys.argv[1])
code = subprocess.call(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"peak resident set: {peak:.0f} MiB (limit {limit:.0f} MiB)")
sys.exit(code or (1 if peak > limit else 0))
