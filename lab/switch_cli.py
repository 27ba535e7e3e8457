#!/usr/bin/env python3
"""Types commands into a switch CLI over SSH and prints what it answered.

An independent reader for HIL's lab tests: it checks what the emulated switch really holds
without going through HIL's own SSH engine. Each stdin line is sent once the previous one has
been answered (a prompt ending in '#', '>' or 'Password:' appeared); `enable` is answered with
the password.

usage: switch_cli.py HOST PORT USER PASSWORD < commands
Needs paramiko (the fake-switches venv has it).
"""
import re
import sys
import time

import paramiko

PROMPT = re.compile(rb"([>#]|[Pp]assword: ?)\s*$")


def wait_for_prompt(channel, seconds=10.0):
    received = b""
    deadline = time.time() + seconds
    while time.time() < deadline and not PROMPT.search(received):
        if channel.recv_ready():
            received += channel.recv(65536)
        elif channel.closed:
            break
        else:
            time.sleep(0.005)
    return received.decode(errors="replace").replace("\r", "")


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(host, port=port, username=user, password=password, look_for_keys=False,
                   allow_agent=False, timeout=10)
    channel = client.invoke_shell(width=511, height=1000)
    transcript = wait_for_prompt(channel)
    for line in sys.stdin.read().splitlines():
        channel.send((line + "\n").encode())
        answer = wait_for_prompt(channel)
        if answer.rstrip().endswith(("Password:", "password:")):
            channel.send((password + "\n").encode())
            answer += wait_for_prompt(channel)
        transcript += answer
    sys.stdout.write(transcript)
    client.close()


if __name__ == "__main__":
    main()
