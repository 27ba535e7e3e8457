#!/usr/bin/env python3
"""Runs one fake-switches emulator for HIL's lab tests.

The emulator's own console script listens on SSH only and always uses the model's stock port
names. HIL's drivers need port names that pass their regexes (`gi1/0/1`, `Ethernet1/1`), so this
starts the model through the package's Python API with the port list we ask for.

usage: fakeswitch.py MODEL HOSTNAME SSH_PORT USER PASSWORD PORT[,PORT...] [HTTP_PORT]
Runs until killed. Prints "ready" once the SSH listener (and, with HTTP_PORT, the model's HTTP
API, e.g. Arista's eAPI at /command-api) is up.
"""
import sys

from fake_switches import switch_factory
from fake_switches.switch_configuration import Port
from fake_switches.transports import SwitchHttpService, SwitchSshService
from twisted.internet import reactor


def main():
    model, hostname, ssh_port, user, password, ports = sys.argv[1:7]
    port_list = [Port(name.strip()) for name in ports.split(",") if name.strip()]
    core = switch_factory.SwitchFactory().get(model, hostname, password, ports=port_list)
    service = SwitchSshService(ip="127.0.0.1", port=int(ssh_port), switch_core=core,
                               users={user: password.encode()})
    service.hook_to_reactor(reactor)
    if len(sys.argv) > 7:
        http = SwitchHttpService(ip="127.0.0.1", port=int(sys.argv[7]), switch_core=core,
                                 users={user: password.encode()})
        http.hook_to_reactor(reactor)
    reactor.callWhenRunning(lambda: print("ready", flush=True))
    reactor.run()


if __name__ == "__main__":
    main()
