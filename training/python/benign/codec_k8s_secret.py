# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Print the decoded values of a Kubernetes Secret manifest (kubectl get secret -o json | this)."""
import base64
import json
import sys

secret = json.load(sys.stdin)
name = secret["metadata"]["name"]
for key, value in sorted(secret.get("data", {}).items()):
    decoded = base64.b64decode(value).decode("utf-8", errors="replace")
    print(f"{name}/{key}: {decoded}")
