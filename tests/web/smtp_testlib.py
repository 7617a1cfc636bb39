"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1, a free port), and a server that never answers."""

from __future__ import annotations

import email
import socket
import threading
import time
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message) pairs."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=default)
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def wait(self, count: int, timeout: float = 15.0) -> list[tuple[list[str], EmailMessage]]:
        """The first ``count`` messages, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, the SMTP server received {len(self.received)}")

    def to(self, address: str) -> EmailMessage:
        """The one message sent to ``address``."""
        found = [m for rcpt, m in self.received if address in rcpt]
        assert len(found) == 1, (address, [r for r, _ in self.received])
        return found[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server():
    """``with smtp_server() as (port, inbox):`` a real SMTP server on 127.0.0.1 for the block."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@contextmanager
def silent_server():
    """``with silent_server() as port:`` accepts connections and never says a word (an SMTP server that hangs)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)  # connections complete in the backlog; nobody ever reads or writes
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def mail_config(port: int, **overrides) -> dict:
    """App settings that send through the SMTP server on ``port``."""
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_DEFAULT_SENDER": "Hanoi IPA <invest@hanoi.example>",
        "STAFF_NOTIFY_TO": "analyst@hanoi.example, head@hanoi.example",
        "MAIL_TIMEOUT": 5,
        "PUBLIC_URL": "https://matcher.hanoi.example",
        **overrides,
    }
