# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Keep a worker process running; restart it with backoff when it dies."""
import logging
import subprocess
import sys
import time

log = logging.getLogger(__name__)


def supervise(cmd, max_backoff=60):
    backoff = 1
    while True:
        started = time.monotonic()
        proc = subprocess.Popen(cmd)
        rc = proc.wait()
        ran = time.monotonic() - started
        log.warning("worker exited with %s after %.1fs", rc, ran)
        backoff = 1 if ran > 30 else min(backoff * 2, max_backoff)
        time.sleep(backoff)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    supervise(sys.argv[1:] or ["python3", "-m", "worker"])
