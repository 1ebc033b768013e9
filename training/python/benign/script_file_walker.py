# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import hashlib
import os
import sys
from collections import defaultdict

by_hash = defaultdict(list)
for root, dirs, files in os.walk(sys.argv[1] if len(sys.argv) > 1 else "."):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    for name in files:
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as f:
                by_hash[hashlib.sha1(f.read()).hexdigest()].append(path)
        except OSError:
            continue
for digest, paths in by_hash.items():
    if len(paths) > 1:
        print(digest[:10], *paths, sep="\n  ")
