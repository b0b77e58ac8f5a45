from celery import shared_task
from django.core.mail import send_mail


@shared_task(
    # Backoff capped at 4 minutes: a longer countdown would wait in the broker,
    # which Redis redelivers after its visibility timeout (tests grep for it).
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=240,
    max_retries=5,
)
def send_test_email(to: str) -> None:
    """Send a short email through the configured backend, from a worker.

    The admin's "send a test email" check and the worker integration test use
    it to prove that the broker, a worker and the email backend are wired up.
    """
    send_mail(
        "Referral CRM: test email from the Celery worker",
        "If you can read this, the broker, a worker and email delivery all work.",
        None,
        [to],
    )
