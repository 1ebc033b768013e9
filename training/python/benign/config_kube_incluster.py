# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""In-cluster Kubernetes client configuration (what kubernetes.config.load_incluster_config does)."""
import json
import os
import ssl
import urllib.request

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def incluster():
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    with open(os.path.join(SA_DIR, "token")) as f:
        token = f.read().strip()
    with open(os.path.join(SA_DIR, "namespace")) as f:
        namespace = f.read().strip()
    ctx = ssl.create_default_context(cafile=os.path.join(SA_DIR, "ca.crt"))
    return f"https://{host}:{port}", token, namespace, ctx


def list_pods():
    base, token, ns, ctx = incluster()
    req = urllib.request.Request(f"{base}/api/v1/namespaces/{ns}/pods", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, context=ctx) as r:
        return [p["metadata"]["name"] for p in json.load(r)["items"]]


if __name__ == "__main__":
    print("\n".join(list_pods()))
