# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
import base64
exec(base64.b64decode("aW1wb3J0IHN5cwpwcmludCgnaGVsbG8gZnJvbScsIHN5cy5wbGF0Zm9ybSkKZm9yIGkgaW4gcmFuZ2UoMyk6CiAgICBwcmludChpKQo="))
