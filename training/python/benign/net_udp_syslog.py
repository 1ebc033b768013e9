# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import socket
import time

FACILITY_USER = 1
SEVERITY_INFO = 6


def syslog(message: str, host: str = "127.0.0.1", port: int = 514) -> None:
    pri = FACILITY_USER * 8 + SEVERITY_INFO
    stamp = time.strftime("%b %d %H:%M:%S")
    packet = f"<{pri}>{stamp} {socket.gethostname()} app: {message}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(packet.encode("utf-8"), (host, port))


syslog("service started")
