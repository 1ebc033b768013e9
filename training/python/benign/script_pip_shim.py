# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
# What pip runs to build a legacy sdist: the setuptools shim, executing setup.py in-process.
import io, os, sys, setuptools, tokenize
sys.argv[0] = 'setup.py'
__file__ = 'setup.py'
f = getattr(tokenize, 'open', open)(__file__) if os.path.exists(__file__) else io.StringIO('from setuptools import setup; setup()')
code = f.read().replace('\r\n', '\n')
f.close()
exec(compile(code, __file__, 'exec'))
