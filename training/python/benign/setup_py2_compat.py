# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
# -*- coding: utf-8 -*-
import io
import sys
from setuptools import setup

PY2 = sys.version_info[0] == 2
requires = ["six>=1.10"]
if PY2:
    requires.append("futures>=3.0")

setup(
    name='compatlib',
    version='1.12.4',
    description=u'Compatibility helpers for Python 2 and 3',
    long_description=io.open('README.rst', encoding='utf-8').read(),
    author=u'Jane Döe',
    license='BSD',
    py_modules=['compatlib'],
    install_requires=requires,
    tests_require=['pytest'],
    classifiers=[
        'Programming Language :: Python :: 2.7',
        'Programming Language :: Python :: 3',
    ],
)
