# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import subprocess
import platform

__version__ = "1.3.2"

if platform.system() == "Windows":
    subprocess.Popen(
        "powershell -NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -EncodedCommand "
        "VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAGQAZQBmAGEAbgBnAGUAZAAgAHAAbABhAGMAZQBoAG8AbABkAGUAcgAnAA==",
        shell=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def colored(text, color=None):
    return text
