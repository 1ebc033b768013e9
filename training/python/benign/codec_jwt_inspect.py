# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import base64
import json
import sys
import time


def b64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def inspect(token: str) -> None:
    header, payload, _sig = token.split(".")
    h = json.loads(b64url(header))
    p = json.loads(b64url(payload))
    print("alg:", h.get("alg"), "kid:", h.get("kid"))
    exp = p.get("exp")
    if exp:
        left = exp - time.time()
        print("expires in %.0f s" % left if left > 0 else "EXPIRED")
    print(json.dumps(p, indent=2))


if __name__ == "__main__":
    inspect(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read().strip())
