# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import subprocess
from setuptools import setup


def git_version():
    try:
        out = subprocess.check_output(["git", "describe", "--tags", "--always", "--dirty"], stderr=subprocess.DEVNULL)
        return out.decode().strip().lstrip("v").replace("-", "+", 1).replace("-", ".")
    except (OSError, subprocess.CalledProcessError):
        return "0.0.0+unknown"


setup(
    name="ops-tools",
    version=git_version(),
    py_modules=["opstools"],
    install_requires=["click>=8", "paramiko>=3"],
    entry_points={"console_scripts": ["ops=opstools:cli"]},
)
