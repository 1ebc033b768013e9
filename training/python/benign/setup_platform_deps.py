# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import platform
import sys

from setuptools import setup

install_requires = ["pyserial>=3.5"]
if sys.platform == "win32":
    install_requires.append("pywin32>=306")
elif sys.platform == "darwin":
    install_requires.append("pyobjc-framework-IOKit")
if platform.machine().startswith("arm"):
    install_requires.append("RPi.GPIO")

setup(
    name="devicectl",
    version="1.1.2",
    packages=["devicectl"],
    install_requires=install_requires,
    entry_points={"console_scripts": ["devicectl=devicectl.__main__:main"]},
)
