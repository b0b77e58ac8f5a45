from django.db import models


class OutboxMessage(models.Model):
    """An email kept by the development backend instead of being delivered.

    A row, not memory, so a message sent by a Celery worker shows on the web
    server's /outbox/ page.
    """

    subject = models.CharField(max_length=998)
    from_email = models.CharField(max_length=320)
    to = models.TextField(help_text="Recipients, one per line.")
    reply_to = models.TextField(blank=True)
    message_id = models.CharField(max_length=320, blank=True)
    headers = models.JSONField(default=dict)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    raw = models.TextField(help_text="The whole message as it would go over SMTP.")
    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self):
        return self.subject


class Heartbeat(models.Model):
    """The last time a background process said it was alive and working
    (the thank-you sweep, each Celery worker): what /healthz reads."""

    name = models.CharField(max_length=200, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
