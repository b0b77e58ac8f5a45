"""`{{ minutes|duration }}`: a length of time stored in minutes, written as a
person reads it: 1440 -> "1 day", 240 -> "4 h", 90 -> "1 h 30 min"."""

from django import template

register = template.Library()

MINUTES_PER_DAY = 24 * 60


@register.filter
def duration(minutes) -> str:
    """Days, hours and minutes, each only when not zero, exactly (1500 ->
    "1 day 1 h"); 0 -> "0 min"; "" for anything that is not a whole number."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        return ""
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days:,} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)
