# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""setup.py with a post-install step that compiles translation catalogs (legitimate cmdclass use)."""
import glob
import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.install import install


class BuildWithCatalogs(build_py):
    def run(self):
        for po in glob.glob("locale/*/LC_MESSAGES/*.po"):
            mo = po[:-3] + ".mo"
            subprocess.check_call(["msgfmt", "-o", mo, po])
        super().run()


class InstallWithCompletion(install):
    def run(self):
        super().run()
        target = os.path.join(self.install_data, "share", "bash-completion", "completions")
        os.makedirs(target, exist_ok=True)
        self.copy_file("completion/mytool.bash", os.path.join(target, "mytool"))


setup(
    name="mytool",
    version="3.1.0",
    packages=["mytool"],
    package_data={"mytool": ["locale/*/LC_MESSAGES/*.mo"]},
    cmdclass={"build_py": BuildWithCatalogs, "install": InstallWithCompletion},
)
