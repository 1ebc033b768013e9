# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Example webhook deliveries (GitHub, Slack, Discord, Stripe) used by the receiver's tests."""
import hashlib
import hmac
import json

GITHUB_SECRET = b"It's a Secret to Everybody"
STRIPE_SECRET = "whsec_test_1234567890abcdef"

GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "repository": {"full_name": "octo-org/octo-repo", "clone_url": "https://github.com/octo-org/octo-repo.git"},
    "pusher": {"name": "octocat", "email": "octocat@example.com"},
    "head_commit": {"id": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "message": "Fix all the bugs"},
}
SLACK_COMMAND = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&channel_name=test&user_name=Steve&command=%2Fdeploy&text=api+prod"
DISCORD_INTERACTION = {
    "type": 2,
    "token": "A_UNIQUE_TOKEN",
    "guild_id": "290926798626357999",
    "data": {"name": "deploy", "options": [{"name": "env", "value": "staging"}]},
}
DISCORD_WEBHOOK_URL = "https://discord.com/api/webhooks/123456789012345678/test-webhook-token"


def github_signature(body):
    return "sha256=" + hmac.new(GITHUB_SECRET, body, hashlib.sha256).hexdigest()


def stripe_signature(body, ts=1492774577):
    signed = f"{ts}.{body.decode()}".encode()
    return f"t={ts},v1=" + hmac.new(STRIPE_SECRET.encode(), signed, hashlib.sha256).hexdigest()


def deliveries():
    body = json.dumps(GITHUB_PUSH).encode()
    yield "/github", {"X-GitHub-Event": "push", "X-Hub-Signature-256": github_signature(body)}, body
    yield "/slack", {"Content-Type": "application/x-www-form-urlencoded"}, SLACK_COMMAND.encode()
    body = json.dumps(DISCORD_INTERACTION).encode()
    yield "/discord", {"Content-Type": "application/json"}, body
