"""Future work waits in the database (due_at), never in the broker.

Redis redelivers a task that waited longer than its visibility timeout, so an
eta or countdown of more than 5 minutes would run twice. No code uses one.
"""

import re
from pathlib import Path

from django.conf import settings

PATTERN = re.compile(
    r"\b(countdown|eta|retry_backoff_max|default_retry_delay)\s*=\s*([^,)\n]+)"
)
LIMIT_SECONDS = 5 * 60


def python_files():
    root = Path(settings.BASE_DIR)
    for path in root.rglob("*.py"):
        parts = set(path.relative_to(root).parts)
        if parts & {".venv", "var", "tests", "node_modules"}:
            continue
        yield path


def test_no_eta_or_countdown_longer_than_five_minutes():
    offenders = []
    for path in python_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for _, value in PATTERN.findall(line):
                value = value.strip()
                if not value.isdigit() or int(value) > LIMIT_SECONDS:
                    offenders.append(f"{path}:{number}: {line.strip()}")
    assert offenders == []


def test_the_check_finds_a_long_countdown(tmp_path):
    assert PATTERN.findall("thank_you_send.apply_async(args=[1], countdown=3600)")
    # autoretry's backoff is a countdown too
    assert PATTERN.findall("@shared_task(retry_backoff=True, retry_backoff_max=600)")
