# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""List running containers by talking HTTP over the Docker unix socket."""
import http.client
import json
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def containers(path="/var/run/docker.sock"):
    conn = UnixHTTPConnection(path)
    conn.request("GET", "/containers/json")
    resp = conn.getresponse()
    return json.loads(resp.read())


if __name__ == "__main__":
    for c in containers():
        print(c["Id"][:12], c["Image"], c["Status"])
