# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Git helpers of a release tool: version from tags, dirty check, changelog."""
import os
import re
import subprocess
from typing import List, Optional

_TAG_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def _git(*args: str, cwd: Optional[str] = None) -> str:
    out = subprocess.check_output(["git", *args], cwd=cwd or os.getcwd(), stderr=subprocess.DEVNULL)
    return out.decode().strip()


def current_version(cwd=None) -> str:
    try:
        tag = _git("describe", "--tags", "--abbrev=0", cwd=cwd)
    except subprocess.CalledProcessError:
        return "0.0.0"
    m = _TAG_RE.match(tag)
    return ".".join(m.groups()) if m else "0.0.0"


def is_dirty(cwd=None) -> bool:
    return bool(_git("status", "--porcelain", cwd=cwd))


def changelog(since: str, cwd=None) -> List[str]:
    log = _git("log", f"{since}..HEAD", "--pretty=format:%s", cwd=cwd)
    return [line for line in log.splitlines() if line and not line.startswith("Merge")]


def bump(version: str, part: str = "patch") -> str:
    major, minor, patch = (int(x) for x in version.split("."))
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def tag_release(version: str, cwd=None) -> None:
    if is_dirty(cwd):
        raise RuntimeError("working tree is dirty")
    _git("tag", "-a", f"v{version}", "-m", f"Release {version}", cwd=cwd)
