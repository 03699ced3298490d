#!/usr/bin/env python3
"""Plays the service manager's end of $NOTIFY_SOCKET for tests.

Binds an AF_UNIX datagram socket at argv[1] ('@name' = abstract), prints "bound", then one JSON
line per datagram: {"pid": sender pid from SCM_CREDENTIALS, "data": text}. Exits after argv[2]
datagrams or argv[3] seconds without one.
"""
import json
import os
import socket
import struct
import sys

path, count, idle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + path[1:] if path.startswith("@") else path)
s.settimeout(idle)
print("bound", flush=True)
for _ in range(count):
    try:
        data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(12))
    except socket.timeout:
        break
    pid = 0
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(json.dumps({"pid": pid, "data": data.decode("utf-8", "replace")}), flush=True)
s.close()
if not path.startswith("@"):
    os.unlink(path)
