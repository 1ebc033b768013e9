# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Load the service configuration from APP_CONFIG_B64 (base64-encoded JSON, set by the Helm chart)."""
import base64
import binascii
import json
import os
from dataclasses import dataclass


@dataclass
class Config:
    database_url: str
    workers: int = 4
    debug: bool = False


def load() -> Config:
    raw = os.environ.get("APP_CONFIG_B64")
    if not raw:
        return Config(database_url="sqlite:///app.db")
    try:
        data = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise SystemExit(f"APP_CONFIG_B64 is not valid base64 JSON: {exc}")
    return Config(**data)


if __name__ == "__main__":
    print(load())
