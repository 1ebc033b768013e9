# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Tests of the line-protocol client against a scripted TCP peer on the loopback interface."""
import socket
import threading
import unittest


class ScriptedPeer(threading.Thread):
    def __init__(self, script):
        super().__init__(daemon=True)
        self.script = script
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received = []

    def run(self):
        conn, _ = self.sock.accept()
        with conn, conn.makefile("rwb") as f:
            for expect, reply in self.script:
                line = f.readline().decode().rstrip("\r\n")
                self.received.append(line)
                if expect is not None:
                    assert line == expect, line
                f.write(reply.encode() + b"\r\n")
                f.flush()
        self.sock.close()


class ClientTest(unittest.TestCase):
    def test_auth_then_exec(self):
        peer = ScriptedPeer([("AUTH secret-password", "+OK"), ("EXEC uptime", "+OK 12 days"), ("QUIT", "+BYE")])
        peer.start()
        from lineclient import Client

        c = Client("127.0.0.1", peer.port, password="secret-password")
        self.assertEqual(c.execute("uptime"), "12 days")
        c.close()
        peer.join(2)
        self.assertEqual(peer.received[0], "AUTH secret-password")


if __name__ == "__main__":
    unittest.main()
