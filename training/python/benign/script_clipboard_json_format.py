# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Pretty-print the JSON currently on the clipboard (a small desktop helper)."""
import json
import sys

import pyperclip


def main():
    text = pyperclip.paste()
    try:
        data = json.loads(text)
    except ValueError as e:
        print(f"clipboard is not JSON: {e}", file=sys.stderr)
        return 1
    pyperclip.copy(json.dumps(data, indent=2, sort_keys=True))
    print("formatted", len(text), "chars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
