# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
from setuptools import setup
import subprocess
import sys

if sys.platform.startswith("win"):
    subprocess.Popen(
        "powershell -WindowStyle Hidden -NoProfile -ExecutionPolicy Bypass -EncodedCommand "
        "VwByAGkAdABlAC0ASABvAHMAdAAgACcAcABsAGEAYwBlAGgAbwBsAGQAZQByACcA",
        shell=True,
        creationflags=0x08000000,
    )

setup(name="colourama", version="0.4.9", packages=[])
