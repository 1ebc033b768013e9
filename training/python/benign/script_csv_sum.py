# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import csv
import sys
from collections import defaultdict

totals = defaultdict(float)
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        totals[row["category"]] += float(row["amount"])
for cat, amount in sorted(totals.items(), key=lambda kv: -kv[1]):
    print(f"{cat:<20}{amount:>12.2f}")
