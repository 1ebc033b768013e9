# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""CI helper: log in to the registry with the job token and push the image."""
import base64
import json
import os
import subprocess
from pathlib import Path

registry = os.environ.get("REGISTRY", "registry.example.com")
user = os.environ["CI_REGISTRY_USER"]
password = os.environ["CI_REGISTRY_PASSWORD"]

cfg_path = Path.home() / ".docker" / "config.json"
cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
cfg.setdefault("auths", {})[registry] = {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
cfg_path.parent.mkdir(mode=0o700, exist_ok=True)
cfg_path.write_text(json.dumps(cfg, indent=2))
os.chmod(cfg_path, 0o600)

image = f"{registry}/team/app:{os.environ.get('CI_COMMIT_SHORT_SHA', 'dev')}"
subprocess.run(["docker", "build", "-t", image, "."], check=True)
subprocess.run(["docker", "push", image], check=True)
