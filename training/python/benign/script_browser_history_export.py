# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Export the user's own Firefox bookmarks to CSV (local only, reads a copy of places.sqlite)."""
import csv
import glob
import os
import shutil
import sqlite3
import tempfile


def profile_db():
    pattern = os.path.expanduser("~/.mozilla/firefox/*.default*/places.sqlite")
    found = glob.glob(pattern)
    if not found:
        raise SystemExit("no Firefox profile found")
    return found[0]


def export(out_path="bookmarks.csv"):
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "places.sqlite")
        shutil.copyfile(profile_db(), copy)
        con = sqlite3.connect(copy)
        rows = con.execute(
            "SELECT b.title, p.url FROM moz_bookmarks b JOIN moz_places p ON b.fk = p.id WHERE b.type = 1"
        ).fetchall()
        con.close()
    with open(out_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["title", "url"])
        w.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print(export(), "bookmarks exported")
