# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Classic UNIX double-fork daemonisation for a metrics collector."""
import atexit
import os
import signal
import sys
import time


def daemonize(pidfile: str, stdout: str = "/var/log/collector.log") -> None:
    if os.fork() > 0:
        sys.exit(0)
    os.chdir("/")
    os.setsid()
    os.umask(0o022)
    if os.fork() > 0:
        sys.exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(os.devnull, "rb") as si:
        os.dup2(si.fileno(), sys.stdin.fileno())
    with open(stdout, "ab", 0) as so:
        os.dup2(so.fileno(), sys.stdout.fileno())
        os.dup2(so.fileno(), sys.stderr.fileno())
    with open(pidfile, "w") as f:
        f.write(str(os.getpid()))
    atexit.register(lambda: os.path.exists(pidfile) and os.remove(pidfile))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def collect() -> None:
    while True:
        with open("/proc/loadavg") as f:
            print(time.time(), f.read().strip(), flush=True)
        time.sleep(10)


if __name__ == "__main__":
    daemonize("/run/collector.pid")
    collect()
