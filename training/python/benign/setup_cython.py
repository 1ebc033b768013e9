# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import numpy
from Cython.Build import cythonize
from setuptools import setup

setup(
    name="sparsestat",
    version="0.5.0",
    ext_modules=cythonize(["sparsestat/*.pyx"], compiler_directives={"language_level": "3"}),
    include_dirs=[numpy.get_include()],
    install_requires=["numpy>=1.22"],
    setup_requires=["cython>=3.0"],
)
