# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
# Compatibility shim: the real metadata lives in pyproject.toml / setup.cfg.
import setuptools

if __name__ == "__main__":
    setuptools.setup()
