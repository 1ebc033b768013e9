# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import shlex
import subprocess

HOSTS = ["web-1.internal.example.com", "web-2.internal.example.com"]
COMMANDS = [
    "cd /srv/app && git pull --ff-only",
    "/srv/app/venv/bin/pip install -r /srv/app/requirements.txt",
    "sudo systemctl restart app.service",
]

for host in HOSTS:
    for cmd in COMMANDS:
        print(f"[{host}] {cmd}")
        subprocess.run(["ssh", "-o", "BatchMode=yes", host, cmd], check=True)
    out = subprocess.run(["ssh", host, "systemctl is-active app.service"], capture_output=True, text=True)
    print(host, out.stdout.strip())
