# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
#!/usr/bin/env python
# Bootstrap script in the style of get-pip.py: the wheel of the installer is embedded below.
import os.path
import pkgutil
import shutil
import sys
import struct
import tempfile

PY_VERSION = sys.version_info[:2]
if PY_VERSION < (3, 7):
    sys.exit("this bootstrap needs Python 3.7+")

from base64 import b85decode


def bootstrap(tmpdir):
    installer_zip = os.path.join(tmpdir, "bootstrap.zip")
    with open(installer_zip, "wb") as fp:
        fp.write(b85decode(DATA.replace(b"\n", b"")))
    sys.path.insert(0, installer_zip)
    import bootstrap
    bootstrap.main()


def main():
    tmpdir = None
    try:
        tmpdir = tempfile.mkdtemp()
        bootstrap(tmpdir=tmpdir)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


DATA = b"""
P)h>@6aWAK2moj!cU@aZwK+Ec004vo000#L003fdZ*+5Xa$#^UUtei%X>?y-E^v8ENljD8P0Y;G(6r)
G0D^*|%)Al}^`!j#lH!u0!~%uPyyB9?oSf7mbxp36QN^Q*M-@|BF#u3Y0|XQR000O8Xd`!BkMy=<MF0
Q*hy(xt5dZ)HVsCGBb98cHa4&UqX>2ZVdCSZ#$S*2U$S>yNN=Z#q$jHx4)zGx!QUHRY)RNMoJfM_bL1
IaUUTQ@_VqQvVacYr<dY!r^SLUeBQJteYM|Dy~Cjd}O0Rj{Q6aWAK2moj!cU@aZwK+Ec004vo000#L0
000000000004ji00000VsCGBb98cHa4%n9X>MtBUtcb8c~DCM0u%!j000080B9q3U61s(V?_V}0Eh$t
01*HH00000000000Du8%0001DZ*O#SbaG*EFLiWjY%XwlP)h{{000000ssO4f&c&j-T(jq000
"""


if __name__ == "__main__":
    main()
