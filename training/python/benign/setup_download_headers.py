# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Build needs the vendored headers; fetch them when building from a git checkout."""
import hashlib
import os
import tarfile
import urllib.request

from setuptools import Extension, setup

LIBVER = "1.0.19"
URL = f"https://download.libsodium.org/libsodium/releases/libsodium-{LIBVER}.tar.gz"
SHA256 = "018d79fe0a045cca07331d37bd0cb57b2e838c51bc48fd837a1472e50068bbea"


def ensure_sources():
    if os.path.isdir(f"vendor/libsodium-{LIBVER}"):
        return
    os.makedirs("vendor", exist_ok=True)
    path, _ = urllib.request.urlretrieve(URL, f"vendor/libsodium-{LIBVER}.tar.gz")
    with open(path, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != SHA256:
            raise RuntimeError("libsodium tarball checksum mismatch")
    with tarfile.open(path) as t:
        t.extractall("vendor")


ensure_sources()
setup(
    name="pysodium-lite",
    version="0.3.0",
    ext_modules=[Extension("pysodium_lite._sodium", ["src/_sodium.c"], include_dirs=[f"vendor/libsodium-{LIBVER}/src/libsodium/include"])],
)
