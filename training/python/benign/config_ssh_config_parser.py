# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
from pathlib import Path


def hosts(path=Path.home() / ".ssh" / "config"):
    result, current = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key.lower() == "host":
            current = result.setdefault(value, {})
        elif current is not None:
            current[key.lower()] = value
    return result


for name, opts in hosts().items():
    print(f"{name:20} {opts.get('user', '-'):10} {opts.get('hostname', name)}")
