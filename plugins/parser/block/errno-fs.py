#!/usr/bin/env python3
"""A one-file FUSE filesystem that fails I/O with chosen errnos, for the block parser's real-kernel test.

Usage: errno-fs.py MOUNTPOINT
Mounts (as root, speaking the protocol of include/uapi/linux/fuse.h on /dev/fuse directly) a
filesystem holding one 4 MiB file "disk.img", opened with FOPEN_DIRECT_IO so every read and write
reaches us with the caller's offset. Reads of the 4 KiB block at offset N*4096 fail with READ_ERRNO[N]
(other blocks read as zeros); every write fails with ENOSPC. A loop device on the file turns these
errnos into block statuses (errno_to_blk_status), which the kernel logs via blk_print_req_error.
Prints "ready" once mounted; serves until the filesystem is unmounted or the process is killed.
"""
import ctypes
import errno
import os
import struct
import sys

READ_ERRNO = [errno.ENODATA, errno.ETIMEDOUT, errno.EREMOTEIO, errno.ENOLINK, errno.EILSEQ, errno.EIO]
SIZE = 4 << 20
ROOT, FILE = 1, 2
NAME = b"disk.img"

# opcodes (include/uapi/linux/fuse.h)
LOOKUP, FORGET, GETATTR, SETATTR, OPEN, READ, WRITE, STATFS, RELEASE = 1, 2, 3, 4, 14, 15, 16, 17, 18
FSYNC, GETXATTR, FLUSH, INIT, OPENDIR, RELEASEDIR, ACCESS, INTERRUPT, DESTROY, BATCH_FORGET = 20, 22, 25, 26, 27, 29, 34, 36, 38, 42
FOPEN_DIRECT_IO = 1 << 0
IN_HDR = struct.Struct("<IIQQIIIHH")  # len, opcode, unique, nodeid, uid, gid, pid, total_extlen, padding
OUT_HDR = struct.Struct("<IiQ")  # len, error, unique


def attr(node):
    mode = 0o040755 if node == ROOT else 0o100600
    size = 0 if node == ROOT else SIZE
    # ino, size, blocks, atime, mtime, ctime, atimensec, mtimensec, ctimensec, mode, nlink, uid, gid, rdev, blksize, flags
    return struct.pack("<QQQQQQIIIIIIIIII", node, size, size // 512, 0, 0, 0, 0, 0, 0, mode, 1, 0, 0, 0, 4096, 0)


def reply(fd, unique, err=0, body=b""):
    os.write(fd, OUT_HDR.pack(OUT_HDR.size + len(body), -err, unique) + body)


def serve(fd):
    while True:
        try:
            req = os.read(fd, 1 << 20)
        except OSError as e:
            if e.errno == errno.ENODEV:  # unmounted
                return
            if e.errno in (errno.EINTR, errno.EAGAIN, errno.ENOENT):
                continue
            raise
        length, op, unique, node = IN_HDR.unpack_from(req)[:4]
        arg = req[IN_HDR.size:length]
        if op in (FORGET, BATCH_FORGET, INTERRUPT):
            continue  # no reply
        if op == INIT:
            major, minor, readahead, flags = struct.unpack_from("<IIII", arg)
            # major, minor, max_readahead, flags, max_background, congestion_threshold, max_write,
            # time_gran, max_pages, map_alignment, flags2, max_stack_depth, unused[6]
            body = struct.pack("<IIIIHHIIHHII24x", 7, min(minor, 31), readahead, 0, 16, 12, 1 << 17, 1, 32, 0, 0, 0)
            reply(fd, unique, 0, body)
        elif op == LOOKUP:
            if node == ROOT and arg.rstrip(b"\0") == NAME:
                reply(fd, unique, 0, struct.pack("<QQQQII", FILE, 0, 0, 0, 0, 0) + attr(FILE))
            else:
                reply(fd, unique, errno.ENOENT)
        elif op in (GETATTR, SETATTR):
            reply(fd, unique, 0, struct.pack("<QII", 0, 0, 0) + attr(node))
        elif op in (OPEN, OPENDIR):
            reply(fd, unique, 0, struct.pack("<QII", 1, FOPEN_DIRECT_IO if op == OPEN else 0, 0))
        elif op == READ:
            _fh, offset, size = struct.unpack_from("<QQI", arg)
            block = offset // 4096
            if node == FILE and block < len(READ_ERRNO):
                reply(fd, unique, READ_ERRNO[block])
            else:
                reply(fd, unique, 0, bytes(max(0, min(size, SIZE - offset))))
        elif op == WRITE:
            reply(fd, unique, errno.ENOSPC)
        elif op == STATFS:
            reply(fd, unique, 0, struct.pack("<QQQQQIIII24x", SIZE // 4096, 0, 0, 2, 0, 4096, 255, 4096, 0))
        elif op in (RELEASE, RELEASEDIR, FLUSH, FSYNC, DESTROY):
            reply(fd, unique)
        else:  # GETXATTR, ACCESS, ...: not implemented, the kernel stops asking
            reply(fd, unique, errno.ENOSYS)


def main():
    target = sys.argv[1].encode()
    fd = os.open("/dev/fuse", os.O_RDWR)
    libc = ctypes.CDLL(None, use_errno=True)
    opts = f"fd={fd},rootmode=40000,user_id=0,group_id=0".encode()
    if libc.mount(b"errnofs", target, b"fuse", 0, opts) != 0:
        e = ctypes.get_errno()
        sys.exit(f"mount: {os.strerror(e)}")
    print("ready", flush=True)
    serve(fd)


if __name__ == "__main__":
    main()
