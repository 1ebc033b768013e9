# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
#!/usr/bin/env python3
"""Installer for the CLI: downloads the release tarball for this platform and unpacks it into ~/.local."""
import io
import os
import platform
import tarfile
import urllib.request

REPO = "https://github.com/example/cli/releases/latest/download"
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
system = platform.system().lower()
url = f"{REPO}/cli-{system}-{arch}.tar.gz"
prefix = os.path.expanduser("~/.local")
print(f"downloading {url}")
data = urllib.request.urlopen(url).read()
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    tar.extractall(os.path.join(prefix, "lib", "cli"), filter="data")
os.makedirs(os.path.join(prefix, "bin"), exist_ok=True)
link = os.path.join(prefix, "bin", "cli")
if os.path.lexists(link):
    os.remove(link)
os.symlink(os.path.join(prefix, "lib", "cli", "cli"), link)
print("installed; make sure ~/.local/bin is on your PATH")
