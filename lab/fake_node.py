"""A pretend server for the IPMI lab tests: its serial console is a TCP listener that
ipmi_sim's serial-over-LAN connects to.

On every connection it prints a boot banner naming the boot device and a login prompt, then
one "tick N" line per second (so tests can see output that was printed while nobody
watched), and echoes whatever is typed.

usage: fake_node.py CONSOLE_PORT BOOT_DEVICE
"""
import os
import socket
import sys
import threading
import time

port, bootdev = int(sys.argv[1]), sys.argv[2]
started = time.strftime("%H:%M:%S")

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(1)


def ticker(conn, stop):
    n = 0
    while not stop.wait(1.0):
        n += 1
        try:
            conn.sendall(b"tick %d\r\n" % n)
        except OSError:
            return


def serve(conn):
    banner = "\r\nfake-node %d up since %s, booted from %s\r\nnode login: " % (
        os.getpid(), started, bootdev)
    conn.sendall(banner.encode())
    stop = threading.Event()
    threading.Thread(target=ticker, args=(conn, stop), daemon=True).start()
    pending = b""
    try:
        while True:
            data = conn.recv(1024)
            if not data:
                return
            pending += data
            while b"\r" in pending or b"\n" in pending:
                cut = min(i for i in (pending.find(b"\r"), pending.find(b"\n")) if i >= 0)
                line, pending = pending[:cut], pending[cut + 1:]
                if line:
                    conn.sendall(b"\r\nyou typed: " + line + b"\r\nnode login: ")
    finally:
        stop.set()
        conn.close()


while True:
    c, _ = listener.accept()
    serve(c)
