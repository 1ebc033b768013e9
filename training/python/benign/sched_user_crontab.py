# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import subprocess

MARK = "# certbot-renew"
LINE = "0 3 * * 1 /usr/bin/certbot renew --quiet --deploy-hook 'systemctl reload nginx' " + MARK


def ensure_job():
    res = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    lines = res.stdout.splitlines() if res.returncode == 0 else []
    lines = [l for l in lines if MARK not in l]
    lines.append(LINE)
    subprocess.run(["crontab", "-"], input="\n".join(lines) + "\n", text=True, check=True)


ensure_job()
