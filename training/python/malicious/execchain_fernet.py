# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
from cryptography.fernet import Fernet
import base64
# the token is a placeholder, not a valid Fernet token
_key = b"bm90LWEtcmVhbC1rZXktanVzdC1hLXBsYWNlaG9sZGVyIQ=="
_tok = b"gAAAAABplaceholderplaceholderplaceholderplaceholderplaceholderplaceholderplaceholderplaceholderplaceholder=="
exec(Fernet(_key).decrypt(_tok))
