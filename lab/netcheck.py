#!/usr/bin/env python3
"""Reachability probes for HIL's lab tests, run inside a node's network namespace.

    netcheck.py tcp-serve PORT SECONDS        accept one connection and echo one line back
    netcheck.py tcp-echo HOST PORT SECONDS    send a line, exit 0 if it comes back
    netcheck.py tagged IFACE VLAN SRC DST SECONDS
        send an 802.1Q-tagged ARP request for DST on VLAN and wait for the reply;
        exit 0 if the reply carries VLAN, 1 if nothing answers, 2 if it arrives otherwise tagged

The tagged probe exists because this kernel has no 8021q module, so a node cannot own a VLAN
sub-interface. A raw packet socket sends the tagged frame, and the kernel reports the VLAN of
each received frame in PACKET_AUXDATA (or leaves the tag in the frame). Standard library only.
"""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_8021Q = 0x8100
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4


def tcp_serve(port, seconds):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", int(port)))
    server.listen(1)
    server.settimeout(float(seconds))
    print("listening", flush=True)
    try:
        conn, _ = server.accept()
    except socket.timeout:
        return 1
    conn.settimeout(float(seconds))
    conn.sendall(conn.recv(256))
    conn.close()
    return 0


def tcp_echo(host, port, seconds):
    try:
        conn = socket.create_connection((host, int(port)), timeout=float(seconds))
        conn.sendall(b"hil-probe\n")
        return 0 if conn.recv(256) == b"hil-probe\n" else 1
    except OSError:
        return 1


def hardware_address(sock, iface):
    with open("/sys/class/net/%s/address" % iface) as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def arp_request(mac, src, dst):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, socket.inet_aton(src),
                       b"\0" * 6, socket.inet_aton(dst))


def reply_vlan(data, ancillary):
    """(vlan or None, ARP payload) of a received frame."""
    vlan = None
    for level, kind, blob in ancillary:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(blob) >= 20:
            status, _len, _snap, _mac, _net, tci, _tpid = struct.unpack("IIIHHHH", blob[:20])
            if status & TP_STATUS_VLAN_VALID:
                vlan = tci & 0x0FFF
    ethertype = struct.unpack("!H", data[12:14])[0]
    if ethertype == ETH_P_8021Q:
        vlan = struct.unpack("!H", data[14:16])[0] & 0x0FFF
        ethertype = struct.unpack("!H", data[16:18])[0]
        return vlan, (data[18:] if ethertype == ETH_P_ARP else b"")
    return vlan, (data[14:] if ethertype == ETH_P_ARP else b"")


def tagged(iface, vlan, src, dst, seconds):
    vlan = int(vlan)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    mac = hardware_address(sock, iface)
    header = b"\xff" * 6 + mac + struct.pack("!HH", ETH_P_8021Q, vlan) + struct.pack("!H", ETH_P_ARP)
    sock.send(header + arp_request(mac, src, dst))
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            data, ancillary, _flags, _addr = sock.recvmsg(2048, socket.CMSG_SPACE(32))
        except socket.timeout:
            break
        got, arp = reply_vlan(data, ancillary)
        if len(arp) < 28 or struct.unpack("!H", arp[6:8])[0] != 2:
            continue
        if socket.inet_ntoa(arp[14:18]) != dst:
            continue
        print("reply from %s on vlan %s" % (dst, got))
        return 0 if got == vlan else 2
    print("no reply from %s on vlan %d" % (dst, vlan))
    return 1


COMMANDS = {"tcp-serve": tcp_serve, "tcp-echo": tcp_echo, "tagged": tagged}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
