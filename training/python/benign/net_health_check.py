# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
#!/usr/bin/env python3
"""Kubernetes-style readiness probe: exits 0 when every dependency accepts TCP connections."""
import os
import socket
import sys
import time

DEPENDENCIES = os.environ.get("WAIT_FOR", "db:5432,cache:6379").split(",")
TIMEOUT = float(os.environ.get("WAIT_TIMEOUT", "2"))


def reachable(target: str) -> bool:
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=TIMEOUT):
            return True
    except OSError as exc:
        print(f"{target}: {exc}", file=sys.stderr)
        return False


def main() -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if all(reachable(t) for t in DEPENDENCIES if t):
            print("all dependencies are up")
            return 0
        time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
