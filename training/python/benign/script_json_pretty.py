# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import json, sys
json.dump(json.load(sys.stdin), sys.stdout, indent=2, sort_keys=True)
print()
