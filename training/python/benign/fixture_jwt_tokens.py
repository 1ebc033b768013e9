# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Signed and tampered JWTs for the auth middleware tests."""
import base64
import hashlib
import hmac
import json
import time

SECRET = b"unit-test-signing-key-do-not-use"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(claims, key=SECRET, alg="HS256"):
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


VALID = make_token({"sub": "user-1", "exp": int(time.time()) + 3600, "scope": "read write"})
EXPIRED = make_token({"sub": "user-1", "exp": 1000})
WRONG_KEY = make_token({"sub": "user-1", "exp": 4102444800}, key=b"another-key")
NONE_ALG = b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(b'{"sub":"admin"}') + "."
STATIC = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def decode_unverified(token):
    parts = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)
    return json.loads(base64.urlsafe_b64decode(pad(parts[0]))), json.loads(base64.urlsafe_b64decode(pad(parts[1])))


def test_static_token_decodes():
    header, claims = decode_unverified(STATIC)
    assert header["alg"] == "HS256" and claims["name"] == "John Doe"
