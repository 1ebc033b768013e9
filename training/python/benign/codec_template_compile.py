# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""A tiny template engine: compiles templates to Python functions (like Jinja2 or Mako do)."""
import re

TOKEN = re.compile(r"{{(.*?)}}")


def compile_template(source: str, name: str = "<template>"):
    parts = ["def render(ctx):", "    out = []"]
    pos = 0
    for m in TOKEN.finditer(source):
        parts.append(f"    out.append({source[pos:m.start()]!r})")
        parts.append(f"    out.append(str(ctx[{m.group(1).strip()!r}]))")
        pos = m.end()
    parts.append(f"    out.append({source[pos:]!r})")
    parts.append("    return ''.join(out)")
    code = compile("\n".join(parts), name, "exec")
    namespace = {}
    exec(code, namespace)
    return namespace["render"]


render = compile_template("Hello {{ name }}, you have {{ count }} new messages.")
print(render({"name": "Ada", "count": 3}))
