# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import sys
from setuptools import Extension, setup

extra = ["-O3", "-fvisibility=hidden"] if sys.platform != "win32" else ["/O2"]

setup(
    name="fasthash",
    version="1.4.0",
    ext_modules=[
        Extension(
            "fasthash._core",
            sources=["src/fasthash/_core.c", "src/fasthash/xxhash.c"],
            include_dirs=["src/fasthash"],
            extra_compile_args=extra,
        )
    ],
    packages=["fasthash"],
    package_dir={"": "src"},
    zip_safe=False,
)
