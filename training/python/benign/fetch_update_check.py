# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import json
import urllib.request
from importlib import metadata


def latest_version(package: str) -> str:
    with urllib.request.urlopen(f"https://pypi.org/pypi/{package}/json", timeout=5) as resp:
        return json.load(resp)["info"]["version"]


def check(package: str = "mytool") -> None:
    try:
        installed = metadata.version(package)
        latest = latest_version(package)
    except Exception:
        return
    if installed != latest:
        print(f"A new release of {package} is available: {installed} -> {latest}")
        print(f"To update, run: pip install --upgrade {package}")


check()
