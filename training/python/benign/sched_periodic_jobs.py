# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import sched
import time
import logging

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
s = sched.scheduler(time.time, time.sleep)


def every(seconds, fn):
    def wrapper():
        try:
            fn()
        except Exception:
            logging.exception("job %s failed", fn.__name__)
        s.enter(seconds, 1, wrapper)
    s.enter(0, 1, wrapper)


def rotate_tokens():
    logging.info("rotating API tokens")


def vacuum():
    logging.info("vacuuming sessions table")


every(3600, rotate_tokens)
every(86400, vacuum)
s.run()
