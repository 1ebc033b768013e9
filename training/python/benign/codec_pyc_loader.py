# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Run a compiled .pyc file (what importlib's SourcelessFileLoader does)."""
import importlib.util
import marshal
import sys


def run_pyc(path: str) -> None:
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != importlib.util.MAGIC_NUMBER:
        raise ImportError(f"{path}: bad magic number for this interpreter")
    code = marshal.loads(data[16:])
    module_globals = {"__name__": "__main__", "__file__": path}
    exec(code, module_globals)


if __name__ == "__main__":
    run_pyc(sys.argv[1])
