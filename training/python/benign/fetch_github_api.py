# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
import sys

import requests

API = "https://api.github.com"


def open_pull_requests(repo: str):
    headers = {"Accept": "application/vnd.github+json"}
    token = os.environ.get("GITHUB_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = requests.get(f"{API}/repos/{repo}/pulls", headers=headers, params={"state": "open"}, timeout=10)
    r.raise_for_status()
    return r.json()


for pr in open_pull_requests(sys.argv[1]):
    print(f"#{pr['number']:>5} {pr['user']['login']:<20} {pr['title']}")
