# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "gthread"
threads = 4
timeout = 60
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = "*"


def post_fork(server, worker):
    server.log.info("worker spawned (pid: %s)", worker.pid)
