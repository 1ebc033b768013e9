# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
from pathlib import Path

import yaml


def current_context(path=None):
    path = Path(path or os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config"))
    cfg = yaml.safe_load(path.read_text())
    name = cfg["current-context"]
    ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == name)
    cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    return name, cluster["server"], ctx.get("namespace", "default")


if __name__ == "__main__":
    name, server, ns = current_context()
    print(f"context {name}: {server} (namespace {ns})")
