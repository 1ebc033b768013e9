# DEFANGED TRAINING SAMPLE for the shrike malicious-Python classifier. Never executed by anything.
# Addresses are documentation-only (127.0.0.1, 192.0.2.0/24, example.invalid); no working payload.
# Every encoded blob below decodes to a harmless placeholder (a print call).
import marshal,base64
exec(marshal.loads(base64.b64decode("YwAAAAAAAAAAAAAAAAQAAAAAAAAA8zIAAACXAGQAhABaAAIAZQECAGUApgAAAKsAAAAAAAAAAACmAQAAqwEAAAAAAAAAAAEAZAFTACkCYwAAAAAAAAAAAAAAAAEAAAADAAAA8wYAAACXAGQBUwApAk7pKgAAAKkAcgMAAADzAAAAAPoIPHN0cmluZz7aAWZyBgAAAAEAAABzBwAAAIAA2AsNiDJyBAAAAE4pAnIGAAAA2gVwcmludHIDAAAAcgQAAAByBQAAAPoIPG1vZHVsZT5yCAAAAAEAAABzKwAAAPADAQEB8AIBAQ7wAAEBDvAAAQEO4AAFgAWAYYBhgWOEY4EKhAqACoAKgApyBAAAAA==")))
