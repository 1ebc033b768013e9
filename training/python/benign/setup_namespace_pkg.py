# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
from setuptools import find_namespace_packages, setup

setup(
    name="acme-cloud-storage",
    version="4.2.0",
    description="ACME Cloud storage client",
    packages=find_namespace_packages(include=["acme.*"]),
    install_requires=["acme-cloud-core>=4.0,<5", "google-crc32c>=1.5", "requests>=2.31"],
    extras_require={"aio": ["aiohttp>=3.9"]},
    python_requires=">=3.8",
    license="Apache 2.0",
    keywords="acme cloud storage",
    project_urls={"Source": "https://github.com/acme/python-storage"},
)
