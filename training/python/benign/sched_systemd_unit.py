# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Generate and enable the systemd unit for our web application."""
import getpass
import os
import subprocess
import sys
from pathlib import Path

UNIT = """[Unit]
Description=Example web application
After=network.target postgresql.service

[Service]
User={user}
WorkingDirectory={workdir}
ExecStart={python} -m gunicorn app.wsgi:application --bind 127.0.0.1:8000 --workers 3
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def main():
    workdir = Path(__file__).resolve().parent
    unit = UNIT.format(user=getpass.getuser(), workdir=workdir, python=sys.executable)
    path = Path("/etc/systemd/system/webapp.service")
    path.write_text(unit)
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    subprocess.run(["systemctl", "enable", "--now", "webapp.service"], check=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
