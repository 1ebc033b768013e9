# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
import shutil
import subprocess
import sys

STEPS = [
    "cmake -S . -B build -DCMAKE_BUILD_TYPE=Release",
    "cmake --build build -j%d" % (os.cpu_count() or 1),
    "ctest --test-dir build --output-on-failure",
]


def main():
    if shutil.which("cmake") is None:
        sys.exit("cmake is required")
    for step in STEPS:
        print("+", step, flush=True)
        rc = subprocess.call(step, shell=True)
        if rc:
            sys.exit(rc)
    os.makedirs("dist", exist_ok=True)
    shutil.copy("build/tool", "dist/tool")
    os.chmod("dist/tool", 0o755)


if __name__ == "__main__":
    main()
