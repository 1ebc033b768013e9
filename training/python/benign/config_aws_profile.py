# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Resolve AWS credentials the way the SDKs do: environment first, then the shared credentials file."""
import configparser
import os
from pathlib import Path


class NoCredentials(Exception):
    pass


def resolve(profile=None):
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return {
            "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": os.environ.get("AWS_SESSION_TOKEN"),
        }
    profile = profile or os.environ.get("AWS_PROFILE", "default")
    path = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", Path.home() / ".aws" / "credentials"))
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise NoCredentials(f"no credentials file at {path}")
    if profile not in parser:
        raise NoCredentials(f"profile {profile!r} not found in {path}")
    return dict(parser[profile])


if __name__ == "__main__":
    creds = resolve()
    print("using access key", creds["aws_access_key_id"][:4] + "****")
