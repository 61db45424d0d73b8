"""An SMTP server inside the test process (aiosmtpd) that keeps every mail the
Orgbase server sends, so that tests can follow the links in invitations,
password resets and e-mail confirmations as a person would."""

import email
import email.policy
import re
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str  # every text part, decoded, joined

    def link(self, path: str) -> str:
        """The first link in the body whose path starts with `path`, e.g.
        "/set-password" (links look like <public_url>/set-password?token=...)."""
        m = re.search(r"https?://[^\s\"'<>]*" + re.escape(path) + r"[^\s\"'<>]*", self.body)
        assert m, f"no {path} link in the mail {self.subject!r}:\n{self.body}"
        return m.group(0)


class _Handler:
    def __init__(self, box: "MailBox"):
        self.box = box

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = [p.get_content() for p in msg.walk() if p.get_content_type() in ("text/plain", "text/html")]
        self.box._add(Mail(list(envelope.rcpt_tos), str(msg.get("subject", "")), "\n".join(parts)))
        return "250 OK"


class MailBox:
    def __init__(self, port: int):
        self.port = port
        self._mails: list[Mail] = []
        self._cond = threading.Condition()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self):
        self._controller.start()

    def stop(self):
        self._controller.stop()

    def _add(self, mail: Mail):
        with self._cond:
            self._mails.append(mail)
            self._cond.notify_all()

    def wait_for(self, to: str, subject_contains: str = "", timeout: float = 15.0) -> Mail:
        """The newest mail to `to` (and with `subject_contains` in its subject), waiting
        for it: the server sends from its outbox, polled every ORGBASE_MAIL_POLL_MS."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in reversed(self._mails):
                    if to.lower() in (r.lower() for r in m.to) and subject_contains.lower() in m.subject.lower():
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.to, m.subject) for m in self._mails]
                    raise AssertionError(f"no mail to {to} ({subject_contains!r}) within {timeout}s; got {seen}")
                self._cond.wait(left)
