# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Record a terminal session to a file, like script(1)."""
import os
import pty
import sys
import time

shell = os.environ.get("SHELL", "/bin/sh")
filename = sys.argv[1] if len(sys.argv) > 1 else "typescript"

with open(filename, "wb") as script:
    def read(fd):
        data = os.read(fd, 1024)
        script.write(data)
        return data

    script.write(("Script started on %s\n" % time.asctime()).encode())
    status = pty.spawn(shell, read)
    script.write(("Script done on %s\n" % time.asctime()).encode())
print("Script done, file is", filename)
