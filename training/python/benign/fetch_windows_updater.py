# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Self-updater of a desktop app: downloads its own signed installer and verifies the checksum."""
import hashlib
import json
import os
import subprocess
import sys
import urllib.request

APP = "ExampleNotes"
FEED = "https://updates.examplenotes.org/win/latest.json"


def update_dir():
    base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    d = os.path.join(base, APP, "updates")
    os.makedirs(d, exist_ok=True)
    return d


def check_and_install(current_version):
    with urllib.request.urlopen(FEED, timeout=15) as r:
        info = json.load(r)
    if info["version"] <= current_version:
        return False
    dst = os.path.join(update_dir(), f"{APP}-{info['version']}.msi")
    urllib.request.urlretrieve(info["url"], dst)
    digest = hashlib.sha256(open(dst, "rb").read()).hexdigest()
    if digest != info["sha256"]:
        os.remove(dst)
        raise RuntimeError("checksum mismatch, update discarded")
    if input(f"Install {APP} {info['version']}? [y/N] ").lower() == "y":
        subprocess.run(["msiexec", "/i", dst, "/passive"], check=True)
    return True


if __name__ == "__main__" and sys.platform == "win32":
    check_and_install(sys.argv[1] if len(sys.argv) > 1 else "0")
