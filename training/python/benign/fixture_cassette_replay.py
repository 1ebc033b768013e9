# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Minimal VCR-style cassette: record HTTP interactions once, replay them in CI."""
import base64
import hashlib
import json
import os
from pathlib import Path
from urllib.request import Request, urlopen

CASSETTES = Path(__file__).parent / "cassettes"
MODE = os.environ.get("CASSETTE_MODE", "replay")
SCRUB_HEADERS = {"authorization", "x-api-key", "cookie", "set-cookie"}


def _key(method, url, body):
    h = hashlib.sha256(f"{method} {url}".encode() + (body or b"")).hexdigest()[:16]
    return CASSETTES / f"{h}.json"


def fetch(url, method="GET", body=None, headers=None):
    path = _key(method, url, body)
    if MODE == "replay":
        rec = json.loads(path.read_text())
        return rec["status"], base64.b64decode(rec["body_b64"])
    req = Request(url, data=body, method=method, headers=headers or {})
    with urlopen(req, timeout=10) as resp:
        data = resp.read()
        rec = {
            "request": {"method": method, "url": url},
            "status": resp.status,
            "headers": {k: v for k, v in resp.headers.items() if k.lower() not in SCRUB_HEADERS},
            "body_b64": base64.b64encode(data).decode(),
        }
    CASSETTES.mkdir(exist_ok=True)
    path.write_text(json.dumps(rec, indent=2))
    return rec["status"], data


EXAMPLE = {
    "request": {"method": "GET", "url": "https://api.example.com/v2/repos?token=REDACTED"},
    "status": 200,
    "body_b64": "eyJpdGVtcyI6IFt7Im5hbWUiOiAic2hyaWtlIiwgInN0YXJzIjogNDJ9XX0=",
}
