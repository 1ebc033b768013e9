# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
from setuptools import setup

setup(
    name="netmon-agent",
    version="2.0.0",
    packages=["netmon"],
    data_files=[
        ("/etc/netmon", ["conf/netmon.yaml"]),
        ("/lib/systemd/system", ["systemd/netmon.service"]),
        ("share/man/man8", ["man/netmon.8"]),
    ],
    scripts=["bin/netmon", "bin/netmon-ctl"],
    install_requires=["psutil", "requests"],
)
