# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
code = bytes.fromhex("696d706f7274207379730a7072696e74282768656c6c6f2066726f6d272c207379732e706c6174666f726d290a666f72206920696e2072616e67652833293a0a202020207072696e742869290a")
exec(code.decode())
