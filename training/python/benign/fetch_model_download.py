# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
import pathlib
import sys
import urllib.request

CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "textkit"


def download(url: str, name: str) -> pathlib.Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / name
    if target.exists():
        return target
    tmp = target.with_suffix(".part")

    def progress(blocks, block_size, total):
        done = blocks * block_size
        if total > 0:
            sys.stderr.write(f"\r{name}: {min(100, done * 100 // total)}%")

    urllib.request.urlretrieve(url, tmp, reporthook=progress)
    tmp.rename(target)
    sys.stderr.write("\n")
    return target


if __name__ == "__main__":
    print(download("https://example.com/models/tokenizer-v2.json", "tokenizer-v2.json"))
