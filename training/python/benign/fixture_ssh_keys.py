# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Throw-away key material for the SSH deployer tests; generated once, checked in on purpose."""
import os
import stat
import tempfile
from pathlib import Path

TEST_ED25519_PRIVATE = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDUMMYTESTKEYONLYDONOTUSEINPRODUCTIONxxxxxxxxxxxxAAAAJgExampleEx
ampleAAAAAtzc2gtZWQyNTUxOQAAACDUMMYTESTKEYONLYDONOTUSEINPRODUCTIONxxxxxxxx
-----END OPENSSH PRIVATE KEY-----
"""
TEST_ED25519_PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINUMMYTESTKEYONLYDONOTUSEINPRODUCTION ci@example.com"
KNOWN_HOSTS = "[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOSTKEYFORTESTSONLY\n"


def write_fake_home():
    """A temporary HOME with ~/.ssh/id_ed25519, known_hosts and config pointing at the test sshd."""
    home = Path(tempfile.mkdtemp(prefix="deployer-test-"))
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700)
    key = ssh / "id_ed25519"
    key.write_text(TEST_ED25519_PRIVATE)
    os.chmod(key, stat.S_IRUSR | stat.S_IWUSR)
    (ssh / "id_ed25519.pub").write_text(TEST_ED25519_PUBLIC + "\n")
    (ssh / "known_hosts").write_text(KNOWN_HOSTS)
    (ssh / "config").write_text("Host testbox\n  HostName 127.0.0.1\n  Port 2222\n  User deploy\n  IdentityFile ~/.ssh/id_ed25519\n")
    return home


def test_deployer_uses_identity_file(monkeypatch):
    home = write_fake_home()
    monkeypatch.setenv("HOME", str(home))
    from deployer.ssh import build_command

    cmd = build_command("testbox", ["uptime"])
    assert cmd[:2] == ["ssh", "-F"] and str(home / ".ssh" / "config") in cmd
