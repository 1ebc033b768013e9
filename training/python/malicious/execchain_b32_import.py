# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
exec(__import__("base64").b32decode("MRSWMIDGFAUTUCRAEAQCA4TFOR2XE3RAGQZAU4DSNFXHIKDGFAUSSCQ=").decode())
