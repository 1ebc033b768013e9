# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""A fake service-account key and metadata server for tests of the GCS uploader."""
import json
import os
import tempfile

FAKE_SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "test-project",
    "private_key_id": "0123456789abcdef0123456789abcdef01234567",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCFAKEKEYFORTESTS\n-----END PRIVATE KEY-----\n",
    "client_email": "uploader@test-project.iam.gserviceaccount.com",
    "client_id": "100000000000000000001",
    "auth_uri": "https://accounts.google.com/o/oauth2/auth",
    "token_uri": "https://oauth2.googleapis.com/token",
}

METADATA = {
    "/computeMetadata/v1/project/project-id": "test-project",
    "/computeMetadata/v1/instance/service-accounts/default/email": FAKE_SERVICE_ACCOUNT["client_email"],
    "/computeMetadata/v1/instance/service-accounts/default/token": json.dumps(
        {"access_token": "ya29.fake-access-token-for-tests", "expires_in": 3599, "token_type": "Bearer"}
    ),
}


def credentials_file():
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(FAKE_SERVICE_ACCOUNT, f)
    os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = path
    os.environ["GCE_METADATA_HOST"] = "127.0.0.1:8089"
    return path


def metadata_response(path, headers):
    if headers.get("Metadata-Flavor") != "Google":
        return 403, "Missing Metadata-Flavor:Google header"
    return (200, METADATA[path]) if path in METADATA else (404, "not found")
