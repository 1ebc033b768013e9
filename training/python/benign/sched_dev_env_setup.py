# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Developer setup: install pyenv shims into the shell profile (like pyenv's installer does)."""
import os
from pathlib import Path

SNIPPET = '''
# >>> devenv >>>
export PYENV_ROOT="$HOME/.pyenv"
command -v pyenv >/dev/null || export PATH="$PYENV_ROOT/bin:$PATH"
eval "$(pyenv init -)"
# <<< devenv <<<
'''

for rc in (".bashrc", ".profile", ".zshrc"):
    p = Path.home() / rc
    if not p.exists():
        continue
    text = p.read_text()
    if ">>> devenv >>>" in text:
        print(f"{rc}: already configured")
        continue
    with p.open("a") as f:
        f.write(SNIPPET)
    print(f"{rc}: added pyenv initialisation")
print("restart your shell or run: source ~/.bashrc")
