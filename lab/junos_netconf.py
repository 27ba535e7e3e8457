#!/usr/bin/env python3
"""Reads and prepares a Junos switch over NETCONF, independently of HIL's own client.

HIL's lab tests use it to check what the emulated switch really holds, and to do what the
admin does before HIL manages a switch (create the pool's VLANs).

usage: junos_netconf.py HOST PORT USER PASSWORD interface NAME
         prints the interface's running configuration as JSON:
         {"mode": "trunk" | "access" | null, "members": ["100", ...], "native": 100 | null}
       junos_netconf.py HOST PORT USER PASSWORD create-vlans ID [ID...]
         creates VLANs named vlan<ID> with those vlan-ids (lock, edit-config, commit, unlock)
       junos_netconf.py HOST PORT USER PASSWORD hold-lock SECONDS
         locks the candidate, prints "locked", and unlocks it SECONDS later (another admin
         at work)
Needs paramiko (the fake-switches venv has it). Speaks NETCONF 1.0 framing (]]>]]>).
"""
import json
import sys
import time
import xml.etree.ElementTree as ET

import paramiko

MARK = b"]]>]]>"
BASE = "urn:ietf:params:xml:ns:netconf:base:1.0"


class Session:
    def __init__(self, host, port, user, password):
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self.client.connect(host, port=port, username=user, password=password,
                            look_for_keys=False, allow_agent=False, timeout=10)
        self.channel = self.client.get_transport().open_session()
        self.channel.settimeout(10)
        self.channel.invoke_subsystem("netconf")
        self.buffer = b""
        self.next_id = 1
        self.read()  # the switch's hello
        self.send('<hello xmlns="%s"><capabilities><capability>'
                  'urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>' % BASE)

    def send(self, text):
        self.channel.sendall(text.encode() + MARK)

    def read(self):
        while MARK not in self.buffer:
            data = self.channel.recv(65536)
            if not data:
                raise SystemExit("the switch closed the session")
            self.buffer += data
        message, _, self.buffer = self.buffer.partition(MARK)
        return strip(ET.fromstring(message.strip()))

    def rpc(self, body):
        self.send('<rpc message-id="%d" xmlns="%s">%s</rpc>' % (self.next_id, BASE, body))
        self.next_id += 1
        reply = self.read()
        errors = [e.findtext("error-message", "").strip() for e in reply.iter("rpc-error")
                  if e.findtext("error-severity", "error").strip() == "error"]
        if errors:
            raise SystemExit("the switch refused %s: %s" % (body[:60], "; ".join(errors)))
        return reply

    def close(self):
        self.rpc("<close-session/>")
        self.client.close()


def strip(element):
    """Drops namespaces from tags, so that paths can be written plainly."""
    for e in element.iter():
        if "}" in e.tag:
            e.tag = e.tag.split("}", 1)[1]
    return element


def interface(session, name):
    reply = session.rpc(
        '<get-config><source><running/></source><filter type="subtree"><configuration>'
        '<interfaces><interface><name>%s</name></interface></interfaces></configuration>'
        '</filter></get-config>' % name)
    result = {"mode": None, "members": [], "native": None}
    for node in reply.iter("interface"):
        if node.findtext("name", "").strip() != name:
            continue
        native = node.findtext("native-vlan-id")
        if native:
            result["native"] = int(native.strip())
        switching = node.find("unit/family/ethernet-switching")
        if switching is not None:
            mode = switching.findtext("interface-mode") or switching.findtext("port-mode")
            result["mode"] = mode.strip() if mode else None
            result["members"] = [m.text.strip() for m in switching.findall("vlan/members")]
    return result


def create_vlans(session, ids):
    vlans = "".join("<vlan><name>vlan%d</name><vlan-id>%d</vlan-id></vlan>" % (i, i)
                    for i in ids)
    session.rpc("<lock><target><candidate/></target></lock>")
    session.rpc("<edit-config><target><candidate/></target><config><configuration>"
                "<vlans>%s</vlans></configuration></config></edit-config>" % vlans)
    session.rpc("<commit/>")
    session.rpc("<unlock><target><candidate/></target></unlock>")


def main():
    host, port, user, password, command = sys.argv[1:6]
    args = sys.argv[6:]
    session = Session(host, int(port), user, password)
    if command == "interface":
        print(json.dumps(interface(session, args[0])))
    elif command == "hold-lock":
        session.rpc("<lock><target><candidate/></target></lock>")
        print("locked", flush=True)
        time.sleep(float(args[0]))
        session.rpc("<unlock><target><candidate/></target></unlock>")
    elif command == "create-vlans":
        create_vlans(session, [int(a) for a in args])
        print("ok")
    else:
        raise SystemExit("unknown command %r" % command)
    session.close()


if __name__ == "__main__":
    main()
