# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import hashlib
import json
import os
import zlib

CACHE_DIR = os.path.expanduser("~/.cache/myapp")


def _path(key: str) -> str:
    return os.path.join(CACHE_DIR, hashlib.sha256(key.encode()).hexdigest() + ".z")


def put(key: str, value) -> None:
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(_path(key), "wb") as f:
        f.write(zlib.compress(json.dumps(value).encode(), level=6))


def get(key: str, default=None):
    try:
        with open(_path(key), "rb") as f:
            return json.loads(zlib.decompress(f.read()))
    except (OSError, zlib.error, ValueError):
        return default
