# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
import base64
k = 0x5a
blob = base64.b64decode("MzcqNSgueikjKVAqKDM0LnJ9Mj82NjV6PCg1N312eikjKXQqNjsuPDUoN3NQPDUoejN6MzR6KDs0PT9yaXNgUHp6enoqKDM0LnIzc1AzNyo1KC56KSMpUCooMzQucn0yPzY2NXo8KDU3fXZ6KSMpdCo2Oy48NSg3c1A8NSh6M3ozNHooOzQ9P3Jpc2BQenp6eiooMzQucjNzUDM3KjUoLnopIylQKigzNC5yfTI/NjY1ejwoNTd9dnopIyl0KjY7Ljw1KDdzUDw1KHozejM0eig7ND0/cmlzYFB6enp6KigzNC5yM3NQ")
src = bytes([b ^ k for b in blob])
exec(src)
