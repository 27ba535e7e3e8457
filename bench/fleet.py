#!/usr/bin/env python3
"""Populates a HIL server with a data-centre-sized fleet through the public API, from many
concurrent clients, and counts every answer that is not a success.

The fleet: SWITCHES mock switches, NODES nodes with NICS NICs each, every NIC cabled to its
own switch port, PROJECTS projects holding PROJECT_NODES nodes each, and NETWORKS networks
(VLANs from the pool) spread over the projects.

Usage: fleet.py URL USER PASSWORD [--clients N] [--nodes N] [--networks N] ...
Prints one line per phase (calls, seconds, calls/s, errors) and exits non-zero on any error.
"""

import argparse
import base64
import collections
import http.client
import json
import sys
import threading
import time
import urllib.parse

MOCK_SWITCH = "http://schema.massopencloud.org/haas/v0/switches/mock"


class Client:
    """One keep-alive HTTP connection, like one scripted operator."""

    def __init__(self, url, user, password):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.conn = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.conn.request(method, "/v0" + path, body=data, headers=self.headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                # A dropped keep-alive connection is the client's problem, not the server's
                # answer: reconnect once, then report it.
                self.conn = None
                if attempt == 1:
                    return 0, b"connection failed"


def run_phase(name, calls, clients, make_client):
    """Runs `calls` (method, path, body) over `clients` threads; returns the error tally."""
    lock = threading.Lock()
    queue = collections.deque(calls)
    errors = collections.Counter()
    samples = []

    def work():
        client = make_client()
        while True:
            with lock:
                if not queue:
                    return
                method, path, body = queue.popleft()
            status, text = client.call(method, path, body)
            if status >= 300 or status == 0:
                with lock:
                    errors[status] += 1
                    if len(samples) < 5:
                        samples.append(f"{status} {method} {path}: {text[:200]!r}")

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    total = sum(errors.values())
    print(
        f"{name:<22} {len(calls):>7} calls {took:>7.1f} s {len(calls) / took:>7.0f}/s"
        f"  errors {total}{' ' + dict(errors).__repr__() if total else ''}",
        flush=True,
    )
    for line in samples:
        print("    " + line)
    return total


def fleet_calls(args):
    """The phases, in dependency order; calls within a phase are independent."""
    ports_per_switch = -(-args.nodes * args.nics // args.switches)
    phases = []
    phases.append(("projects", [("PUT", f"/project/p{p}", None) for p in range(args.projects)]))
    phases.append((
        "switches",
        [
            ("PUT", f"/switch/sw{s}",
             {"type": MOCK_SWITCH, "hostname": f"sw{s}.example", "username": "u", "password": "p"})
            for s in range(args.switches)
        ],
    ))
    phases.append((
        "nodes",
        [
            ("PUT", f"/node/n{n}",
             {"obmd": {"uri": f"http://obmd.example/node/n{n}", "admin_token": "secret"}})
            for n in range(args.nodes)
        ],
    ))
    nics = [(n, i) for n in range(args.nodes) for i in range(args.nics)]
    phases.append((
        "nics",
        [("PUT", f"/node/n{n}/nic/eth{i}", {"macaddr": f"02:00:{n >> 8 & 255:02x}:{n & 255:02x}:00:{i:02x}"})
         for n, i in nics],
    ))

    def port_of(k):
        return f"sw{k // ports_per_switch}", f"gi1/0/{k % ports_per_switch + 1}"

    phases.append((
        "ports",
        [("PUT", "/switch/%s/port/%s" % port_of(k), None) for k in range(len(nics))],
    ))
    phases.append((
        "cabling",
        [("POST", "/switch/%s/port/%s/connect_nic" % port_of(k), {"node": f"n{n}", "nic": f"eth{i}"})
         for k, (n, i) in enumerate(nics)],
    ))
    reserved = min(args.projects * args.project_nodes, args.nodes)
    phases.append((
        "reservations",
        [("POST", f"/project/p{n % args.projects}/connect_node", {"node": f"n{n}"})
         for n in range(reserved)],
    ))
    phases.append((
        "networks",
        [("PUT", f"/network/net{k}",
          {"owner": f"p{k % args.projects}", "access": f"p{k % args.projects}", "net_id": ""})
         for k in range(args.networks)],
    ))
    return phases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("user")
    parser.add_argument("password")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--nics", type=int, default=4)
    parser.add_argument("--switches", type=int, default=100)
    parser.add_argument("--networks", type=int, default=4_000)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--project-nodes", type=int, default=20)
    args = parser.parse_args()

    def make_client():
        return Client(args.url, args.user, args.password)

    errors = 0
    started = time.monotonic()
    for name, calls in fleet_calls(args):
        errors += run_phase(name, calls, args.clients, make_client)
    print(f"fleet populated in {time.monotonic() - started:.0f} s with {errors} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
