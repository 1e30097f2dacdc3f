#!/usr/bin/env python3
"""Receives systemd-style readiness notifications for the e2e tests.

Binds the datagram socket named by argv[1], prints "bound" (so the caller
can start the daemon with NOTIFY_SOCKET pointing here without a race), then
blocks until a datagram with READY=1 arrives and prints "ready".
"""
import os
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(path):
    os.unlink(path)
sock.bind(path)
print("bound", flush=True)
while True:
    data = sock.recv(4096).decode(errors="replace")
    if "READY=1" in data.split("\n"):
        print("ready", flush=True)
        break
sock.close()
os.unlink(path)
