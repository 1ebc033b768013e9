# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import pathlib
import subprocess
import sys

src = pathlib.Path(sys.argv[1])
dst = pathlib.Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
for video in sorted(src.glob("*.mov")):
    out = dst / (video.stem + ".mp4")
    if out.exists():
        continue
    cmd = ["ffmpeg", "-hide_banner", "-i", str(video), "-c:v", "libx264", "-crf", "23", "-c:a", "aac", str(out)]
    print(" ".join(cmd))
    subprocess.run(cmd, check=True)
