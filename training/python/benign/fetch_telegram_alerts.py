# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Send monitoring alerts to a Telegram chat; token and chat id come from the environment."""
import logging
import os
import socket

import requests

log = logging.getLogger("alerts")


class TelegramNotifier:
    def __init__(self, token=None, chat_id=None):
        self.token = token or os.environ["TELEGRAM_BOT_TOKEN"]
        self.chat_id = chat_id or os.environ["TELEGRAM_CHAT_ID"]

    def send(self, text):
        url = f"https://api.telegram.org/bot{self.token}/sendMessage"
        r = requests.post(url, data={"chat_id": self.chat_id, "text": text}, timeout=10)
        if not r.ok:
            log.warning("telegram returned %s", r.status_code)
        return r.ok


def disk_alert(path="/", limit=0.9):
    st = os.statvfs(path)
    used = 1 - st.f_bavail / st.f_blocks
    if used > limit:
        TelegramNotifier().send(f"{socket.gethostname()}: {path} is {used:.0%} full")
