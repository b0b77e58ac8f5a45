"""SMTP sink for the thank-you benchmark: aiosmtpd in its own process.

    python bench/smtp_sink.py PORT OUTFILE

Accepts every message, keeps nothing but (arrival time, message token) taken
from the `Message-ID: <thanks.TOKEN@...>` header, and appends those pairs to
OUTFILE every 0.2 s ("<unix time> <token>" per line, "-" when absent); the
benchmark maps tokens to thank-yous. Prints
"ready" once it listens; SIGTERM flushes and exits.

The per-connection work is kept minimal so the sink is not the bottleneck:
a fixed server hostname (aiosmtpd otherwise calls socket.getfqdn() for every
connection) and a regular expression on the raw bytes instead of parsing.
"""

import asyncio
import re
import signal
import sys
import time

from aiosmtpd.smtp import SMTP

MESSAGE_ID = re.compile(rb"Message-ID: <thanks\.([0-9a-f]+)@", re.IGNORECASE)


class Recorder:
    def __init__(self):
        self.pending = []

    async def handle_DATA(self, server, session, envelope):
        arrived = time.time()
        match = MESSAGE_ID.search(envelope.original_content or b"")
        self.pending.append((arrived, match.group(1).decode() if match else "-"))
        return "250 Message accepted"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    recorder = Recorder()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    out = open(path, "a", buffering=1 << 16)  # noqa: SIM115 (closed at exit)

    def flush() -> None:
        records, recorder.pending = recorder.pending, []
        out.writelines(f"{at:.6f} {thank_you}\n" for at, thank_you in records)
        out.flush()

    async def flusher() -> None:
        while True:
            await asyncio.sleep(0.2)
            flush()

    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(recorder, hostname="sink.bench.invalid", loop=loop),
            "127.0.0.1",
            port,
            backlog=1024,
        )
    )
    stopping = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stopping.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stopping.set_result, None)
    task = loop.create_task(flusher())
    print("ready", flush=True)
    loop.run_until_complete(stopping)
    task.cancel()
    server.close()
    flush()
    out.close()


if __name__ == "__main__":
    main()
