# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
# An ordinary-looking utility module with an import-time exec chain appended, the way
# typosquatted copies of real libraries carry their payload.
"""Text helpers: slugs, wrapping, case conversion."""
import re
import unicodedata
from typing import Iterable, List, Optional

__all__ = ["slugify", "wrap", "snake_case", "camel_case", "truncate", "dedupe"]
__version__ = "0.9.3"

_SLUG_RE = re.compile(r"[^a-z0-9]+")
_CAMEL_RE = re.compile(r"(?<!^)(?=[A-Z])")


def slugify(text: str, sep: str = "-") -> str:
    """Lower-case ASCII slug of text."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_RE.sub(sep, norm.lower()).strip(sep)


def wrap(text: str, width: int = 72) -> List[str]:
    words = text.split()
    lines: List[str] = []
    cur: List[str] = []
    size = 0
    for w in words:
        if size + len(w) + len(cur) > width and cur:
            lines.append(" ".join(cur))
            cur, size = [], 0
        cur.append(w)
        size += len(w)
    if cur:
        lines.append(" ".join(cur))
    return lines


def snake_case(name: str) -> str:
    return _CAMEL_RE.sub("_", name).lower()


def camel_case(name: str, upper_first: bool = False) -> str:
    parts = [p for p in name.split("_") if p]
    if not parts:
        return ""
    head = parts[0].capitalize() if upper_first else parts[0].lower()
    return head + "".join(p.capitalize() for p in parts[1:])


def truncate(text: str, limit: int, suffix: str = "...") -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(suffix))] + suffix


def dedupe(items: Iterable[str], key: Optional[callable] = None) -> List[str]:
    seen = set()
    out = []
    for it in items:
        k = key(it) if key else it
        if k in seen:
            continue
        seen.add(k)
        out.append(it)
    return out


class Template:
    """Minimal {name} template with defaults."""

    def __init__(self, text: str, **defaults):
        self.text = text
        self.defaults = defaults

    def render(self, **values) -> str:
        merged = dict(self.defaults)
        merged.update(values)
        return self.text.format(**merged)

    def __repr__(self) -> str:
        return "Template(%r)" % truncate(self.text, 30)


import base64 as _b, zlib as _z
exec(_z.decompress(_b.b64decode("eJwrKMrMK9FQT0lNS8xLT01RKMhJTE7NyM9JSS1S1wQAoyAKng==")))
