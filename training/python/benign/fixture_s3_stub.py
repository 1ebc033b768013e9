# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""In-memory S3 used by the backup tests, answering the subset of the REST API the client calls."""
import base64
import hashlib
import re
from xml.sax.saxutils import escape

BUCKETS = {}
ACCESS_KEYS = {"AKIAEXAMPLETESTKEY01": "testsecretkeytestsecretkeytestsecret00"}
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]{20})/(?P<scope>[^,]+), SignedHeaders=(?P<sh>[^,]+), Signature=(?P<sig>[0-9a-f]{64})")


def handle(method, path, headers, body=b""):
    m = AUTH_RE.match(headers.get("Authorization", ""))
    if not m or m["key"] not in ACCESS_KEYS:
        return 403, {}, b"<Error><Code>InvalidAccessKeyId</Code></Error>"
    bucket, _, key = path.lstrip("/").partition("/")
    objects = BUCKETS.setdefault(bucket, {})
    if method == "PUT":
        md5 = headers.get("Content-MD5")
        if md5 and base64.b64decode(md5) != hashlib.md5(body).digest():
            return 400, {}, b"<Error><Code>BadDigest</Code></Error>"
        objects[key] = body
        return 200, {"ETag": '"%s"' % hashlib.md5(body).hexdigest()}, b""
    if method == "GET" and key:
        return (200, {}, objects[key]) if key in objects else (404, {}, b"<Error><Code>NoSuchKey</Code></Error>")
    if method == "GET":
        items = "".join(f"<Contents><Key>{escape(k)}</Key><Size>{len(v)}</Size></Contents>" for k, v in sorted(objects.items()))
        return 200, {"Content-Type": "application/xml"}, f"<ListBucketResult><Name>{bucket}</Name>{items}</ListBucketResult>".encode()
    if method == "DELETE":
        objects.pop(key, None)
        return 204, {}, b""
    return 405, {}, b""
