# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
import socket
import time

import requests

GATEWAY = os.environ.get("PUSHGATEWAY", "http://pushgateway.monitoring:9091")


def push(job: str, metrics: dict) -> None:
    body = "".join(f"{k} {v}\n" for k, v in metrics.items())
    url = f"{GATEWAY}/metrics/job/{job}/instance/{socket.gethostname()}"
    requests.post(url, data=body, timeout=5).raise_for_status()


start = time.time()
rows = 0
for _ in range(1000):
    rows += 1
push("nightly_export", {"export_rows_total": rows, "export_duration_seconds": time.time() - start})
