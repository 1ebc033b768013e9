# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import argparse, socket, concurrent.futures as cf

def probe(host, port, timeout):
    s = socket.socket()
    s.settimeout(timeout)
    try:
        return port, s.connect_ex((host, port)) == 0
    finally:
        s.close()

ap = argparse.ArgumentParser(description="check which of our service ports answer")
ap.add_argument("host")
ap.add_argument("ports", nargs="+", type=int)
ap.add_argument("--timeout", type=float, default=1.0)
args = ap.parse_args()
with cf.ThreadPoolExecutor(8) as ex:
    for port, ok in ex.map(lambda p: probe(args.host, p, args.timeout), args.ports):
        print(f"{args.host}:{port} {'open' if ok else 'closed'}")
