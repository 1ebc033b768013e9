# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""HTTP mocks for the cloud client tests, in the style of the responses library."""
import json
import re
from urllib.parse import parse_qs, urlparse

import responses

ENDPOINT = "https://sts.amazonaws.com/"
ROLE_ARN = "arn:aws:iam::123456789012:role/test"


def _assume_role_callback(request):
    params = parse_qs(request.body)
    assert params["Action"] == ["AssumeRoleWithWebIdentity"]
    xml = (
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
        "<AccessKeyId>ASIAEXAMPLEEXAMPLE00</AccessKeyId><SecretAccessKey>examplesecretexamplesecret</SecretAccessKey>"
        "<SessionToken>IQoJb3JpZ2luX2VjEXAMPLE</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
        "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
    )
    return 200, {"Content-Type": "text/xml"}, xml


@responses.activate
def test_web_identity_flow(tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    monkeypatch.setenv("AWS_ROLE_ARN", ROLE_ARN)
    responses.add_callback(responses.POST, ENDPOINT, callback=_assume_role_callback)
    responses.add(responses.GET, re.compile(r"https://s3\.amazonaws\.com/bucket/.*"), body=b"hello", status=200)
    from cloudclient import Session

    s = Session.from_environment()
    assert s.get("s3://bucket/key") == b"hello"
    assert urlparse(responses.calls[0].request.url).netloc == "sts.amazonaws.com"
    assert json.loads(json.dumps({"ok": True}))["ok"]
