"""A real Celery worker process takes work from the configured broker.

`make test` runs this on SQLite and the filesystem broker; CI runs it again on
PostgreSQL and Redis.
"""

import pytest

from core.models import OutboxMessage
from tests.helpers import wait_for


@pytest.mark.worker
def test_a_queued_email_is_sent_by_a_real_worker(
    client, alice, settings, celery_worker_process
):
    settings.EMAIL_BACKEND = settings.OUTBOX_BACKEND  # what the worker uses too
    client.force_login(alice)
    client.post("/outbox/test-email/")

    def arrived():
        """the worker's email in the outbox"""
        return OutboxMessage.objects.filter(to="alice@example.com").first()

    message = wait_for(arrived, timeout=60)
    assert message.subject == "Referral CRM: test email from the Celery worker"
    assert celery_worker_process.poll() is None  # still running, not crashed
