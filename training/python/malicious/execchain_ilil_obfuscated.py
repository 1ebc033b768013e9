# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
IlIlIlIlIlIl = __import__
lIlIlIlIlIlI = IlIlIlIlIlIl("base64")
IIlIlIlIIlIl = getattr(lIlIlIlIlIlI, "b64decode")
llIIllIIllII = "ZXhlYyhfX2ltcG9ydF9fKCdiYXNlNjQnKS5iNjRkZWNvZGUoJ2NISnBiblFvSjNCc1lXTmxhRzlzWkdWeUlITjBZV2RsSUhSM2J5Y3BDZz09Jykp"
eval(compile(IIlIlIlIIlIl(llIIllIIllII), "<IlIl>", "exec"))
