# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
import subprocess
from setuptools import setup, find_packages
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop


def compile_translations():
    locale_dir = os.path.join(os.path.dirname(__file__), "myapp", "locale")
    for root, _dirs, files in os.walk(locale_dir):
        for f in files:
            if f.endswith(".po"):
                po = os.path.join(root, f)
                subprocess.check_call(["msgfmt", "-o", po[:-3] + ".mo", po])


class BuildPy(build_py):
    def run(self):
        compile_translations()
        build_py.run(self)


class Develop(develop):
    def run(self):
        compile_translations()
        develop.run(self)


setup(
    name="myapp",
    version="3.2.0",
    packages=find_packages(exclude=["tests"]),
    include_package_data=True,
    cmdclass={"build_py": BuildPy, "develop": Develop},
    install_requires=["requests>=2.25"],
)
