# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Download a release binary, verify its SHA-256 against the published checksum, install it."""
import hashlib
import os
import shutil
import stat
import sys
import tempfile
import urllib.request

VERSION = "1.29.2"
BASE = f"https://dl.k8s.io/release/v{VERSION}/bin/linux/amd64"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def main(dest="/usr/local/bin/kubectl"):
    binary = fetch(f"{BASE}/kubectl")
    expected = fetch(f"{BASE}/kubectl.sha256").decode().split()[0]
    actual = hashlib.sha256(binary).hexdigest()
    if actual != expected:
        sys.exit(f"checksum mismatch: {actual} != {expected}")
    with tempfile.NamedTemporaryFile(delete=False) as tmp:
        tmp.write(binary)
    os.chmod(tmp.name, os.stat(tmp.name).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    shutil.move(tmp.name, dest)
    print(f"installed kubectl {VERSION} to {dest}")


if __name__ == "__main__":
    main(*sys.argv[1:])
