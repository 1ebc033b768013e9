# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Post a build result to the team's Discord channel (webhook URL from the CI secret store)."""
import json
import os
import sys
import urllib.request


def notify(status: str, url: str) -> None:
    webhook = os.environ["DISCORD_WEBHOOK_URL"]
    colour = 0x2ECC71 if status == "success" else 0xE74C3C
    body = {
        "username": "ci-bot",
        "embeds": [{"title": f"Build {status}", "url": url, "color": colour,
                    "description": os.environ.get("GITHUB_REF_NAME", "")}],
    }
    req = urllib.request.Request(webhook, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


if __name__ == "__main__":
    notify(sys.argv[1], sys.argv[2])
