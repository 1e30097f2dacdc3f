#!/usr/bin/env python3
"""Waits for a process that is not our child to exit, through a pidfd.

Usage: wait-pid.py PID TIMEOUT_SECONDS. Exits 0 once PID is gone (or was
already), 1 on timeout.
"""
import os
import select
import sys

pid, timeout = int(sys.argv[1]), float(sys.argv[2])
try:
    fd = os.pidfd_open(pid)
except ProcessLookupError:
    sys.exit(0)
ready, _, _ = select.select([fd], [], [], timeout)
sys.exit(0 if ready else 1)
