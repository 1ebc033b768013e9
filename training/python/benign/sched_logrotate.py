# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import gzip
import os
import shutil
import time

LOG_DIR = "/var/log/myapp"
KEEP = 7

for name in sorted(os.listdir(LOG_DIR)):
    path = os.path.join(LOG_DIR, name)
    if name.endswith(".log") and os.path.getsize(path) > 50 * 1024 * 1024:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with open(path, "rb") as src, gzip.open(f"{path}.{stamp}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        open(path, "w").close()
archives = sorted(f for f in os.listdir(LOG_DIR) if f.endswith(".gz"))
for old in archives[:-KEEP]:
    os.remove(os.path.join(LOG_DIR, old))
