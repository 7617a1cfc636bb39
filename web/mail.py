"""E-mail after a self-assessment is sent: a confirmation to the firm and a notice to the staff.

Sent with Flask-Mailman (Django's well-tried mail code: header encoding, address checks, an
SMTP timeout) over SMTP. Off unless ``MAIL_SERVER`` and ``MAIL_DEFAULT_SENDER`` are set; the
staff notice also needs ``STAFF_NOTIFY_TO`` (addresses separated by commas), the confirmation a
firm that gave its e-mail and consented.

Sending never holds up or breaks the submission: the request only words the messages (in the
firm's language, and the staff's ``STAFF_NOTIFY_LANG``) and hands them on, after the lead is
committed. With ``REDIS_URL`` each message is a job on the ``MAIL_QUEUE`` RQ queue, run by
``matcher worker`` and retried three times (after 30 s, 2 and 10 min); without it, or when Redis
cannot take it, a small thread pool of the app process sends it once. Every SMTP connection
and command waits at most ``MAIL_TIMEOUT`` seconds. A failure is logged, never shown to the firm.
"""

from __future__ import annotations

import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMessage, Mail

log = logging.getLogger(__name__)
mailman = Mail()
_pool: ThreadPoolExecutor | None = None
#: One address without display name, comment or list: what a form may hand to the SMTP envelope.
PLAIN_ADDRESS = re.compile(r"[^@\s,;<>()\[\]\\:\"']+@[^@\s,;<>()\[\]\\:\"']+\.[^@\s,;<>()\[\]\\:\"'.]+")
RETRY_INTERVALS = [30, 120, 600]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def init_app(app: Flask) -> None:
    """Mail settings from the environment (``MAIL_*``, ``STAFF_NOTIFY_*``) unless the config has them."""
    env = os.environ
    defaults = {
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _flag(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _flag(env.get("MAIL_USE_SSL")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER") or None,
        "MAIL_TIMEOUT": float(env.get("MAIL_TIMEOUT") or 10),
        "STAFF_NOTIFY_TO": env.get("STAFF_NOTIFY_TO") or "",
        "STAFF_NOTIFY_LANG": env.get("STAFF_NOTIFY_LANG") or "en",
        "MAIL_QUEUE": "matcher-mail",
        "MAIL_BACKEND": "smtp",  # Flask-Mailman would keep the mail in memory under TESTING: we test real SMTP
        "PUBLIC_URL": None,  # base of the links in e-mails: required with mail on (web.check_mail_links)
        "MAIL_CONFIRM_RATE_LIMIT": "3 per hour",  # confirmations to one address
    }
    for key, value in defaults.items():
        app.config.setdefault(key, value)
    mailman.init_app(app)


def enabled() -> bool:
    """Whether e-mail is configured (an SMTP server and a sender)."""
    return bool(current_app.config.get("MAIL_SERVER") and current_app.config.get("MAIL_DEFAULT_SENDER"))


def staff_addresses() -> list[str]:
    """``STAFF_NOTIFY_TO`` as a list (commas or semicolons between addresses)."""
    raw = current_app.config.get("STAFF_NOTIFY_TO") or ""
    items = raw if isinstance(raw, list | tuple) else re.split(r"[,;]", str(raw))
    return [a.strip() for a in items if PLAIN_ADDRESS.fullmatch(a.strip())]


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link under ``PUBLIC_URL`` (always set when mail is on: :func:`web.check_mail_links`), else on
    the host of this request (the API page's example, shown to the one who asked for it)."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return str(base).rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def confirmation(lead, assessment, report_url: str, contact: str, lang: str) -> dict[str, Any] | None:
    """The confirmation to the firm, worded in the current language; ``None`` without a usable address."""
    address = (lead.contact_email or "").strip()
    if not (lead.consent and PLAIN_ADDRESS.fullmatch(address)):
        return None
    body = render_template(
        "mail/confirmation.txt",
        lead=lead,
        a=assessment,
        shown=assessment.shown_in(lang),
        report_url=report_url,
        contact=contact,
    )
    subject = _(
        "Your self-assessment has reached the Hanoi investment promotion team: %(name)s", name=_one_line(lead.name)
    )
    return {
        "kind": "confirmation",
        "lead_id": lead.id,
        "to": [address],
        "reply_to": staff_addresses()[:1],
        "subject": subject,
        "body": body,
        "lang": lang,
    }


def staff_notice(lead, assessment, firm_lang: str) -> dict[str, Any] | None:
    """The notice to ``STAFF_NOTIFY_TO`` in ``STAFF_NOTIFY_LANG``; ``None`` when nobody is to be told."""
    to = staff_addresses()
    if not to:
        return None
    lang = current_app.config.get("STAFF_NOTIFY_LANG") or "en"
    lang = lang if lang in current_app.config["LANGUAGES"] else "en"
    reply = [lead.contact_email.strip()] if PLAIN_ADDRESS.fullmatch((lead.contact_email or "").strip()) else []
    with force_locale(lang):
        body = render_template(
            "mail/staff_notice.txt",
            lead=lead,
            a=assessment,
            shown=assessment.shown_in(lang),
            firm_lang=firm_lang,
            lead_url=external_url("leads.detail", lead_id=lead.id),
        )
        subject = _(
            "New lead from the self-assessment: %(name)s (%(score)s, band %(band)s)",
            name=_one_line(lead.name),
            score=f"{assessment.score:.1f}",
            band=assessment.band,
        )
    return {
        "kind": "staff",
        "lead_id": lead.id,
        "to": to,
        "reply_to": reply,
        "subject": subject,
        "body": body,
        "lang": lang,
    }


def deliver(message: dict[str, Any]) -> None:
    """Send one message now over SMTP (in an app context); raises on failure or timeout."""
    config = current_app.config
    connection = mailman.get_connection(timeout=float(config.get("MAIL_TIMEOUT") or 10))
    email = EmailMessage(
        subject=_one_line(message["subject"]),
        body=message["body"],
        from_email=config["MAIL_DEFAULT_SENDER"],
        to=message["to"],
        reply_to=message.get("reply_to") or None,
        connection=connection,
        headers={"Content-Language": message.get("lang", "en"), "Auto-Submitted": "auto-generated"},
    )
    email.send()
    log.info("mail: %s for lead %s sent", message["kind"], message.get("lead_id"))


def _send_in_thread(app: Flask, message: dict[str, Any]) -> None:
    with app.app_context():
        try:
            deliver(message)
        except Exception as exc:  # noqa: BLE001 -- a mail server's failure must never reach the firm
            log.warning("mail: %s for lead %s not sent: %s", message["kind"], message.get("lead_id"), exc)


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
    return _pool


def _enqueue(message: dict[str, Any]) -> bool:
    """Put the message on the RQ mail queue; False if Redis cannot take it."""
    from redis.exceptions import RedisError
    from rq import Queue, Retry

    from .taskqueue import connection

    config = current_app.config
    try:
        Queue(config["MAIL_QUEUE"], connection=connection()).enqueue(
            "web.worker.send_mail_job",
            message,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            job_timeout=int(4 * float(config.get("MAIL_TIMEOUT") or 10)) + 30,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"mail {message['kind']} for lead {message.get('lead_id')}",
        )
        return True
    except RedisError as exc:
        log.warning(
            "mail: Redis cannot queue the %s for lead %s (%s); sending from this process",
            message["kind"],
            message.get("lead_id"),
            exc,
        )
        return False


def dispatch(messages: list[dict[str, Any] | None]) -> int:
    """Hand the messages to the background (RQ queue or a thread); returns how many were handed on."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    handed = 0
    for message in messages:
        if message is None:
            continue
        if not (app.config.get("REDIS_URL") and _enqueue(message)):
            _thread_pool().submit(_send_in_thread, app, message)
        handed += 1
    return handed


def may_confirm(address: str) -> bool:
    """Whether ``address`` may get one more confirmation (``MAIL_CONFIRM_RATE_LIMIT``, default 3 per hour).

    Anyone can type someone else's address into the form: the limit keeps the app from being used
    to flood a mailbox. Counted where the rate limits count (Redis when set, shared by every process).
    """
    from limits import parse

    limiter = current_app.extensions.get("matcher_limiter")
    if limiter is None or not limiter.enabled:
        return True
    limit = parse(str(current_app.config.get("MAIL_CONFIRM_RATE_LIMIT") or "3 per hour"))
    try:
        return limiter.limiter.hit(limit, "mail-confirmation", address.strip().lower())
    except Exception:  # noqa: BLE001 -- the counter's store is down: rather one mail too many than none
        log.warning("mail: cannot count confirmations to an address; sending", exc_info=True)
        return True


def after_submission(lead, assessment, report_token: str, lang: str) -> int:
    """Word and hand on both e-mails about a lead the firm has just sent (after the commit); how many."""
    if not enabled():
        return 0
    from .contact import text_in

    try:
        report_url = external_url("assess.report", token=report_token, lang=lang)
        firm = confirmation(lead, assessment, report_url, text_in(lang), lang)
        if firm is not None and not may_confirm(firm["to"][0]):
            log.warning("mail: no confirmation for lead %s: its address had enough of them this hour", lead.id)
            firm = None
        messages = [firm, staff_notice(lead, assessment, lang)]
        return dispatch(messages)
    except Exception:  # noqa: BLE001 -- the lead is stored: a mail problem must not turn that into an error page
        log.exception("mail: the e-mails about lead %s could not be prepared", lead.id)
        return 0
