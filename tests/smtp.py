"""A real SMTP server on 127.0.0.1 (aiosmtpd) that collects what it receives."""

import asyncio
import email
import socket
from email import policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """Keeps every accepted message; can refuse or stall, like real servers do."""

    def __init__(self):
        self.messages = []
        self.refuse_data = None  # e.g. "451 4.3.0 Try again later"
        self.stall_rcpt_seconds = 0.0  # hold RCPT TO (a slow server)
        self.rcpt_seen = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen += 1
        if self.stall_rcpt_seconds:
            await asyncio.sleep(self.stall_rcpt_seconds)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        self.messages.append(envelope)
        return "250 Message accepted"

    def parsed(self):
        return [
            email.message_from_bytes(m.original_content, policy=policy.default)
            for m in self.messages
        ]


class SinkServer:
    def __init__(self):
        self.sink = Sink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
