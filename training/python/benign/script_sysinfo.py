# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Print a short system report for bug reports."""
import getpass
import os
import platform
import socket
import sys

print("python  :", sys.version.split()[0], sys.executable)
print("platform:", platform.platform())
print("machine :", platform.machine(), os.cpu_count(), "cpus")
print("host    :", socket.gethostname())
print("user    :", getpass.getuser())
print("cwd     :", os.getcwd())
print("venv    :", os.environ.get("VIRTUAL_ENV", "-"))
