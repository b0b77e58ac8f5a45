"""What-if email backend for the benchmark: one SMTP connection per process.

Django's SMTP backend opens a connection for every message sent without an
explicit `connection=` (connect, EHLO, ..., QUIT). This one keeps the first
connection open for the life of the process and reopens it once when the
server has dropped it. Used only by bench/whatif_settings.py.
"""

import smtplib

from django.core.mail.backends.smtp import EmailBackend


class ReusedConnectionBackend(EmailBackend):
    shared = None  # the process's open smtplib.SMTP

    def open(self):
        if ReusedConnectionBackend.shared is None:
            super().open()
            ReusedConnectionBackend.shared = self.connection
        self.connection = ReusedConnectionBackend.shared
        return False  # never "new": send_messages must not close it

    def _send(self, email_message):
        try:
            return super()._send(email_message)
        except smtplib.SMTPServerDisconnected:
            ReusedConnectionBackend.shared = self.connection = None
            self.open()
            return super()._send(email_message)
