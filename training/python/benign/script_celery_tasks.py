# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
import smtplib

import requests
from celery import Celery

app = Celery("tasks", broker=os.environ.get("BROKER_URL", "redis://localhost:6379/0"))


@app.task(bind=True, max_retries=5)
def fetch_feed(self, url):
    try:
        r = requests.get(url, timeout=15)
        r.raise_for_status()
    except requests.RequestException as exc:
        raise self.retry(exc=exc, countdown=2 ** self.request.retries)
    return len(r.content)


@app.task
def send_digest(address, body):
    with smtplib.SMTP("localhost") as s:
        s.sendmail("noreply@example.com", [address], body)
