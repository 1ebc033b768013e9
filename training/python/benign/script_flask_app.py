# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os

from flask import Flask, jsonify, request

app = Flask(__name__)
ITEMS = {}


@app.get("/healthz")
def health():
    return jsonify(status="ok")


@app.post("/items/<name>")
def put_item(name):
    ITEMS[name] = request.get_json(force=True)
    return jsonify(ok=True), 201


@app.get("/items/<name>")
def get_item(name):
    if name not in ITEMS:
        return jsonify(error="not found"), 404
    return jsonify(ITEMS[name])


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", 5000)))
