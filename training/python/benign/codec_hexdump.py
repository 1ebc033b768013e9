# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import binascii
import sys


def hexdump(data: bytes, width: int = 16) -> None:
    for off in range(0, len(data), width):
        chunk = data[off:off + width]
        hexpart = binascii.hexlify(chunk, " ").decode()
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        print(f"{off:08x}  {hexpart:<{width * 3}} {text}")


with open(sys.argv[1], "rb") as f:
    hexdump(f.read(4096))
