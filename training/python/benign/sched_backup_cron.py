# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Install the nightly database backup job (run once by the Ansible role)."""
import os
import sys

CRON_FILE = "/etc/cron.d/pg-backup"
JOB = "30 2 * * * postgres /usr/local/bin/pg-backup --retention 14 >> /var/log/pg-backup.log 2>&1\n"


def install():
    header = "# managed by ops/backup.py - do not edit\nSHELL=/bin/bash\nMAILTO=ops@example.com\n"
    with open(CRON_FILE + ".tmp", "w") as f:
        f.write(header + JOB)
    os.chmod(CRON_FILE + ".tmp", 0o644)
    os.replace(CRON_FILE + ".tmp", CRON_FILE)
    print("installed", CRON_FILE)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root")
    install()
