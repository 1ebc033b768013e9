# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Tests for a terminal emulator: run a child under a pseudo-terminal and read its output."""
import os
import pty
import select
import unittest


def run_in_pty(argv, timeout=5.0):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out = b""
    try:
        while True:
            r, _, _ = select.select([fd], [], [], timeout)
            if not r:
                break
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    return out


class PtyTest(unittest.TestCase):
    def test_isatty(self):
        out = run_in_pty(["python3", "-c", "import sys; print(sys.stdout.isatty())"])
        self.assertIn(b"True", out)

    def test_echo(self):
        self.assertIn(b"hello", run_in_pty(["echo", "hello"]))


if __name__ == "__main__":
    unittest.main()
