#!/usr/bin/env python3
"""Decodes a containerd.task.v2.DeleteResponse (stdin) to `pid status seconds`.

Only varint fields exist at the top level (1 pid, 2 exit_status) besides
field 3 (exited_at, a Timestamp message with 1 seconds, 2 nanos).
"""
import sys


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(buf):
    i, out = 0, {}
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            out[num], i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            out[num] = buf[i:i + n]
            i += n
        else:
            raise SystemExit(f"unexpected wire type {wire} for field {num}")
    return out


msg = fields(sys.stdin.buffer.read())
ts = fields(msg.get(3, b""))
print(msg.get(1, 0), msg.get(2, 0), ts.get(1, 0))
