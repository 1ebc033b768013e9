# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
import os, sys
exec("\x70\x72\x69\x6e\x74\x28\x27\x70\x6c\x61\x63\x65\x68\x6f\x6c\x64\x65\x72\x20\x73\x74\x61\x67\x65\x20\x74\x77\x6f\x27\x29\x0a")
