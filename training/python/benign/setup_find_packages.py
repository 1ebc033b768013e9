# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
from setuptools import setup, find_packages

with open("README.md", encoding="utf-8") as f:
    long_description = f.read()

setup(
    name="datakit",
    version="2.3.1",
    author="Data Team",
    author_email="data@example.com",
    description="Helpers for tabular data pipelines",
    long_description=long_description,
    long_description_content_type="text/markdown",
    url="https://github.com/example/datakit",
    packages=find_packages(exclude=["tests", "tests.*"]),
    python_requires=">=3.8",
    install_requires=["pandas>=1.5", "pyarrow>=10"],
    extras_require={"dev": ["pytest", "ruff"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
        "Operating System :: OS Independent",
    ],
)
