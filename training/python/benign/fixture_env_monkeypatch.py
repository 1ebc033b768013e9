# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""conftest.py: isolate every test from the developer's real credentials and config."""
import os

import pytest

SENSITIVE = [
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "GOOGLE_APPLICATION_CREDENTIALS", "GITHUB_TOKEN", "NPM_TOKEN", "DOCKER_AUTH_CONFIG",
    "KUBECONFIG", "SSH_AUTH_SOCK", "DATABASE_URL",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in SENSITIVE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text('{"auths": {"registry.example.com": {"auth": "dGVzdDp0ZXN0"}}}')
    (tmp_path / ".netrc").write_text("machine api.example.com login test password test\n")
    os.chmod(tmp_path / ".netrc", 0o600)
    yield tmp_path


@pytest.fixture
def fake_kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n  name: test\n"
        "contexts:\n- context: {cluster: test, user: test}\n  name: test\ncurrent-context: test\n"
        "users:\n- name: test\n  user: {token: fake-bearer-token}\n"
    )
    return path
