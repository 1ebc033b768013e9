# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
from setuptools import setup

setup(
    name="tinyutils",
    version="0.1.0",
    packages=["tinyutils"],
    install_requires=[],
)
