# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""A threaded TCP echo server used in integration tests."""
import argparse
import logging
import socketserver

log = logging.getLogger("echo")


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self):
        peer = "%s:%d" % self.client_address
        log.info("connection from %s", peer)
        for line in self.rfile:
            self.wfile.write(line)
        log.info("%s closed", peer)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7000)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with Server((args.host, args.port), EchoHandler) as srv:
        log.info("listening on %s:%d", args.host, args.port)
        srv.serve_forever()


if __name__ == "__main__":
    main()
