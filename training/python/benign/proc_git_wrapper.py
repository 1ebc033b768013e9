# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Release helper: tags the current commit and pushes it."""
import subprocess
import sys


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    if git("status", "--porcelain"):
        sys.exit("working tree is dirty")
    version = open("VERSION").read().strip()
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    if branch != "main":
        sys.exit(f"releases are cut from main, not {branch}")
    git("tag", "-a", f"v{version}", "-m", f"Release {version}")
    git("push", "origin", f"v{version}")
    print(f"tagged v{version} at {git('rev-parse', '--short', 'HEAD')}")


if __name__ == "__main__":
    main()
