# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Post the CI result to the team's Slack channel through an incoming webhook."""
import json
import os
import urllib.request


def notify(status: str) -> None:
    url = os.environ["SLACK_WEBHOOK_URL"]
    color = "#2eb886" if status == "success" else "#a30200"
    payload = {
        "attachments": [{
            "color": color,
            "title": f"{os.environ.get('CI_PROJECT_NAME', 'build')} #{os.environ.get('CI_PIPELINE_ID', '?')}",
            "text": f"Pipeline finished: *{status}*",
        }]
    }
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10)


if __name__ == "__main__":
    notify(os.environ.get("CI_JOB_STATUS", "unknown"))
