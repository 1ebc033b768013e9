# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
import codecs
payload = "vzcbeg flf\ncevag('uryyb sebz', flf.cyngsbez)\nsbe v va enatr(3):\n    cevag(v)\n"
eval(compile(codecs.decode(payload, "rot_13"), "<string>", "exec"))
