# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""pytest fixture: a local HTTP server that records the requests the client under test makes."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest


class Recorder(BaseHTTPRequestHandler):
    routes = {}
    seen = []

    def _reply(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        status, payload = self.routes.get((self.command, self.path), (404, {"error": "not found"}))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _reply

    def log_message(self, *args):
        pass


@pytest.fixture
def mock_api():
    Recorder.routes = {
        ("POST", "/oauth/token"): (200, {"access_token": "test-token-123", "token_type": "Bearer", "expires_in": 3600}),
        ("GET", "/api/v1/users/me"): (200, {"id": 1, "login": "octocat"}),
        ("POST", "/hooks/build"): (204, {}),
    }
    Recorder.seen = []
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.seen
    server.shutdown()
    server.server_close()


def test_login_sends_client_secret(mock_api):
    import requests

    base, seen = mock_api
    r = requests.post(base + "/oauth/token", data={"client_id": "abc", "client_secret": "s3cr3t", "grant_type": "client_credentials"})
    assert r.json()["access_token"] == "test-token-123"
    assert b"client_secret=s3cr3t" in seen[0]["body"]
