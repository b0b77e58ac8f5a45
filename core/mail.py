from django.core.mail.backends.base import BaseEmailBackend

from core.models import OutboxMessage


class OutboxBackend(BaseEmailBackend):
    """Keeps every sent message as an OutboxMessage row (development default)."""

    def send_messages(self, email_messages):
        rows = [self._row(message) for message in email_messages]
        OutboxMessage.objects.bulk_create(rows)
        return len(rows)

    def _row(self, message) -> OutboxMessage:
        mime = message.message()
        html = ""
        for content, mimetype in getattr(message, "alternatives", []) or []:
            if mimetype == "text/html":
                html = content
        headers = {k: str(v) for k, v in mime.items()}
        return OutboxMessage(
            subject=message.subject,
            from_email=message.from_email,
            to="\n".join(message.recipients()),
            reply_to="\n".join(message.reply_to),
            message_id=headers.get("Message-ID", ""),
            headers=headers,
            body_text=message.body,
            body_html=html,
            raw=mime.as_string(),
        )
