# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
import os
import smtplib
import ssl
from email.message import EmailMessage


def send_alert(subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = os.environ.get("ALERT_FROM", "alerts@example.com")
    msg["To"] = os.environ.get("ALERT_TO", "oncall@example.com")
    msg["Subject"] = subject
    msg.set_content(body)
    ctx = ssl.create_default_context()
    with smtplib.SMTP(os.environ.get("SMTP_HOST", "smtp.example.com"), 587) as s:
        s.starttls(context=ctx)
        s.login(os.environ["SMTP_USER"], os.environ["SMTP_PASSWORD"])
        s.send_message(msg)


if __name__ == "__main__":
    send_alert("disk usage above 90%", "Node worker-3 /var is at 93%.")
