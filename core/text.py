"""How names and email addresses typed by people are stored, written once."""


def clean_name(value: str) -> str:
    """A person's or company's name as stored: without the spaces around it."""
    return value.strip()


def clean_email(value: str) -> str:
    """An email address as stored and compared: trimmed, lower case."""
    return value.strip().lower()
