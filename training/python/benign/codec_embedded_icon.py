# HARD BENIGN TRAINING SAMPLE for the shrike malicious-Python classifier: legitimate code that
# uses capabilities malware also uses. Never executed by the trainer.
"""Tk application with its icon embedded as base64 (common in single-file GUI tools)."""
import base64
import tkinter as tk

ICON_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAGXRFWHRTb2Z0d2FyZQBBZG9iZSBJbWFnZVJlYWR5"
    "ccllPAAAAKBJREFUeNpi/P//PwMlgImBQjDwBiyMmwMDA8N/BmJNQARDoKQEaRoYGRkZUQyAKWbEKhRXAGHx8xs2"
    "gCzGKIj8gPWBgYGAhI4RxBmGSFkhZsTlEwK3ZxDIAgxEDDLVYGBg4EIHGIEAHWQhJ0CoICAw+MDBkoa8nyKdQAAB"
    "AAEAAA8AAP8AAGjfAAAAAElFTkSuQmCC"
)


def main():
    root = tk.Tk()
    root.title("Log viewer")
    icon = tk.PhotoImage(data=base64.b64decode(ICON_PNG))
    root.iconphoto(True, icon)
    tk.Label(root, text="No log loaded").pack(padx=20, pady=20)
    root.mainloop()


if __name__ == "__main__":
    main()
