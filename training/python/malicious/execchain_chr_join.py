# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
exec("".join(chr(c) for c in [105,109,112,111,114,116,32,115,121,115,10,112,114,105,110,116,40,39,104,101,108,108,111,32,102,114,111,109,39,44,32,115,121,115,46,112,108,97,116,102,111,114,109,41,10,102,111,114,32,105,32,105,110,32,114,97,110,103,101,40,51,41,58,10,32,32,32,32,112,114,105,110,116,40,105,41,10]))
