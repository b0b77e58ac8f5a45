"""Validators shared by the apps' models."""

from django.core.exceptions import ValidationError

# Notes hold what a person writes about a source or a referral: room for a
# page or two, not for a pasted document (a megabyte was accepted before).
NOTES_MAX = 10_000
# One activity on a referral's timeline: a call, an email, a meeting.
ACTIVITY_MAX = 5_000

LINE_BREAK = "Keep this on one line: it goes into email headers."


def validate_one_line(value: str) -> None:
    """Refuse a line break in a value that reaches an email header (a From
    name): the header would be refused at every send."""
    if any(char in value for char in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        raise ValidationError(LINE_BREAK, code="line_break")
