# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Package __init__ that reads optional settings from the environment at import time."""
import logging
import os
import platform
import sys

from .client import Client
from .errors import ApiError, AuthError

__version__ = "4.1.0"
__all__ = ["Client", "ApiError", "AuthError", "user_agent"]

DEBUG = os.environ.get("EXAMPLEAPI_DEBUG", "") == "1"
API_BASE = os.environ.get("EXAMPLEAPI_BASE", "https://api.example.org/v2")

if DEBUG:
    logging.basicConfig(level=logging.DEBUG)


def user_agent():
    return "exampleapi/%s python/%s %s" % (__version__, platform.python_version(), sys.platform)
