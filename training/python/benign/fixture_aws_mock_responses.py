# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Canned AWS API responses for unit tests of the inventory service (no network is touched)."""
import base64
import datetime
import json
import uuid

FAKE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
FAKE_SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDEXAMPLE"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def assume_role_response(role_name, session_name="unit-test"):
    expires = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    return {
        "Credentials": {
            "AccessKeyId": "ASIA" + uuid.uuid4().hex[:16].upper(),
            "SecretAccessKey": FAKE_SECRET_ACCESS_KEY,
            "SessionToken": FAKE_SESSION_TOKEN,
            "Expiration": expires.isoformat(),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": f"AROA{uuid.uuid4().hex[:16].upper()}:{session_name}",
            "Arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{session_name}",
        },
    }


def get_caller_identity():
    return {"UserId": "AIDAEXAMPLEUSERID", "Account": ACCOUNT_ID, "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/test"}


def secrets_manager_secret(name, value):
    return {
        "ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}-AbCdEf",
        "Name": name,
        "SecretString": json.dumps(value),
        "SecretBinary": base64.b64encode(json.dumps(value).encode()).decode(),
        "VersionId": str(uuid.uuid4()),
        "CreatedDate": datetime.datetime(2024, 5, 1).timestamp(),
    }


def instance_metadata(path):
    """Answers of the EC2 metadata service at http://169.254.169.254/latest/meta-data/ for the fake instance."""
    table = {
        "instance-id": "i-0123456789abcdef0",
        "local-ipv4": "10.0.0.12",
        "iam/security-credentials/": "test-role",
        "iam/security-credentials/test-role": json.dumps(
            {
                "Code": "Success",
                "AccessKeyId": FAKE_ACCESS_KEY_ID,
                "SecretAccessKey": FAKE_SECRET_ACCESS_KEY,
                "Token": FAKE_SESSION_TOKEN,
                "Expiration": "2030-01-01T00:00:00Z",
            }
        ),
    }
    return table.get(path.strip("/"), "")
