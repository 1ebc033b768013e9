# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
#!/usr/bin/env python3
"""Container entrypoint: render the config from environment variables, then exec the server."""
import os
import string
import sys

template = string.Template(open("/etc/app/config.tmpl").read())
with open("/etc/app/config.yaml", "w") as f:
    f.write(template.safe_substitute(os.environ))

os.umask(0o027)
if os.getuid() == 0:
    os.setgid(1000)
    os.setuid(1000)
argv = sys.argv[1:] or ["/usr/local/bin/server", "--config", "/etc/app/config.yaml"]
os.execvp(argv[0], argv)
