"""E-mail after a self-assessment is sent (web/mail.py), against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import logging
import re
import time
import uuid

import pytest
from smtp_testlib import free_port, mail_config, silent_server, smtp_server

from web import contact, mail
from web.extensions import db
from web.models import Lead

FORM = {
    "name": "Volga Robotics",
    "description": "Industrial robots and automation lines",
    "okved": "28.99",
    "training": "committed",
    "investment_usd": "2m",
    "city": "Kazan",
    "contact_email": "ceo@volga.example",
    "consent": "y",
}
CONTACT = {
    "en": "Ms Nguyen Lan, investment desk\n+84 24 0000 0000",
    "ru": "Г-жа Нгуен Лан, инвестиционный отдел",
    "vi": "Bà Nguyễn Lan, bộ phận đầu tư",
}
#: (subject of the confirmation, words of its body, the score as that language writes it) per language
WORDED = {
    "en": ("has reached the Hanoi investment promotion team", ["Hello,", "What happens next", "of 100 (band"], "."),
    "ru": ("Ваша самооценка получена", ["Здравствуйте!", "Что будет дальше", "из 100 (категория"], ","),
    "vi": ("Bản tự đánh giá của bạn đã đến", ["Xin chào,", "Các bước tiếp theo", "/100 (hạng"], ","),
}


def _submit(client, lang="en", **changes):
    return client.post(f"/assess/submit?lang={lang}", data={**FORM, **changes})


def test_firm_and_staff_get_their_messages_in_their_languages(make_app):
    with smtp_server() as (port, inbox):
        app = make_app(**mail_config(port))
        with app.app_context():
            contact.save(CONTACT)
            db.session.commit()
        client = app.test_client()
        for lang in WORDED:
            response = _submit(client, lang, contact_email=f"ceo-{lang}@volga.example")
            assert response.status_code == 200
        inbox.wait(2 * len(WORDED))
    for lang, (subject, words, mark) in WORDED.items():
        with app.app_context():
            lead = db.session.execute(db.select(Lead).filter_by(contact_email=f"ceo-{lang}@volga.example")).scalar_one()
            lead_id, score, band = lead.id, lead.score, lead.band
        firm = inbox.to(f"ceo-{lang}@volga.example")
        assert subject in firm["Subject"] and "Volga Robotics" in firm["Subject"]
        assert firm["From"] == "Hanoi IPA <invest@hanoi.example>" and firm["Content-Language"] == lang
        assert firm["Reply-To"] == "analyst@hanoi.example"
        body = firm.get_content()
        for word in words:
            assert word in body, (lang, word)
        assert f"{score:.1f}".replace(".", mark) in body
        assert CONTACT[lang].splitlines()[0] in body
        link = re.search(r"https://matcher\.hanoi\.example(/assess/report/[\w-]+\?lang=" + lang + ")", body)
        assert link, body
        report = client.get(link.group(1)).get_data(as_text=True)
        assert "Volga Robotics" in report and f'<html lang="{lang}">' in report
        # the staff: one message to both addresses, in English (STAFF_NOTIFY_LANG), answering goes to the firm
        staff = [
            m
            for rcpt, m in inbox.received
            if "analyst@hanoi.example" in rcpt and m.get_content().rstrip().endswith(f"/leads/{lead_id}")
        ]
        assert len(staff) == 1, lang
        staff = staff[0]
        assert [rcpt for rcpt, m in inbox.received if m is staff] == [["analyst@hanoi.example", "head@hanoi.example"]]
        expected = f"New lead from the self-assessment: Volga Robotics ({score:.1f}, band {band})"
        assert staff["Subject"].strip() == expected
        assert staff["Reply-To"] == f"ceo-{lang}@volga.example"
        text = staff.get_content()
        assert f"ceo-{lang}@volga.example" in text and "Kazan" in text
        assert {"en": "English", "ru": "Русский", "vi": "Tiếng Việt"}[lang] in text
        assert "- Technology transfer: " in text and "- Priority-sector fit: " in text


def test_staff_notice_in_the_staffs_language(make_app):
    with smtp_server() as (port, inbox):
        app = make_app(**mail_config(port, STAFF_NOTIFY_LANG="vi", STAFF_NOTIFY_TO="lan@hanoi.example"))
        assert _submit(app.test_client(), "ru").status_code == 200
        inbox.wait(2)
    staff = inbox.to("lan@hanoi.example")
    assert staff["Subject"].strip().startswith("Khách hàng tiềm năng mới từ tự đánh giá: Volga Robotics")
    assert "Ngôn ngữ của doanh nghiệp: Русский" in staff.get_content()
    assert "Здравствуйте!" in inbox.to("ceo@volga.example").get_content()


def test_a_name_cannot_add_headers_or_recipients(make_app):
    with smtp_server() as (port, inbox):
        app = make_app(**mail_config(port))
        assert _submit(app.test_client(), name="Volga\r\nBcc: spy@evil.example").status_code == 200
        received = inbox.wait(2)
    assert sorted(r for rcpt, _ in received for r in rcpt) == [
        "analyst@hanoi.example",
        "ceo@volga.example",
        "head@hanoi.example",
    ]
    assert "Volga Bcc: spy@evil.example" in inbox.to("ceo@volga.example")["Subject"]


def test_links_name_the_public_address_whatever_host_the_request_names(make_app, monkeypatch):
    """A form sent with a Host (or X-Forwarded-Host behind a trusted proxy) of its own choosing gets no link
    to that host into the e-mails: they name PUBLIC_URL, and without it the app does not start with mail on."""
    from web import ConfigError, check_startup

    with smtp_server() as (port, inbox):
        app = make_app(**mail_config(port, TRUSTED_PROXIES=1))
        client = app.test_client()
        headers = {"Host": "evil.example", "X-Forwarded-Host": "evil2.example"}
        assert client.post("/assess/submit?lang=en", data=FORM, headers=headers).status_code == 200
        inbox.wait(2)
    bodies = " ".join(m.get_content() for _, m in inbox.received)
    assert "evil" not in bodies and "https://matcher.hanoi.example/assess/report/" in bodies
    with pytest.raises(ConfigError, match="MATCHER_PUBLIC_URL is not"):
        make_app(**mail_config(port, PUBLIC_URL=None))
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "invest@example.org")
    with pytest.raises(ConfigError, match="MATCHER_PUBLIC_URL is not"):
        check_startup()  # gunicorn's master, before it forks a worker
    monkeypatch.setenv("MATCHER_PUBLIC_URL", "https://matcher.example.org")
    check_startup()


def test_mail_is_off_unless_configured(make_app):
    with smtp_server() as (port, inbox):
        app = make_app(MAIL_PORT=port, STAFF_NOTIFY_TO="analyst@hanoi.example")  # no MAIL_SERVER
        response = _submit(app.test_client())
        assert response.status_code == 200 and "on its way" not in response.get_data(as_text=True)
        time.sleep(0.5)
        assert inbox.received == []
    with app.test_request_context():
        assert not mail.enabled()


def test_no_confirmation_without_consent_or_a_plain_address(app, make_lead):
    lead_id = make_lead(contact_email="a@b.example, c@d.example")
    with app.test_request_context():
        lead = db.session.get(Lead, lead_id)
        assert mail.confirmation(lead, lead.latest, "https://x/r", "", "en") is None
        lead.contact_email, lead.consent = "a@b.example", False
        assert mail.confirmation(lead, lead.latest, "https://x/r", "", "en") is None
        lead.consent = True
        assert mail.confirmation(lead, lead.latest, "https://x/r", "", "en")["to"] == ["a@b.example"]


def _wait_for(caplog, text: str, timeout: float) -> logging.LogRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in caplog.records if text in r.getMessage()]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no log record with {text!r}: {[r.getMessage() for r in caplog.records]}")


def test_a_hanging_smtp_server_times_out_after_the_firm_has_its_page(make_app, caplog):
    caplog.set_level(logging.INFO, logger="web.mail")
    with silent_server() as port:
        app = make_app(**mail_config(port, MAIL_TIMEOUT=3.0))  # longer than any answer takes here
        response = _submit(app.test_client())
        answered = time.time()
        assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)
        failure = _wait_for(caplog, "not sent", 10)
    assert failure.created > answered  # sent in the background: the page came first
    assert "timed out" in failure.getMessage()
    with app.app_context():
        assert db.session.execute(db.select(Lead)).scalar_one().name == "Volga Robotics"


def test_deliver_gives_up_after_the_timeout(app):
    with silent_server() as port, app.test_request_context():
        app.config.update(mail_config(port, MAIL_TIMEOUT=0.3))
        started = time.monotonic()
        with pytest.raises(OSError):  # socket.timeout is an OSError (TimeoutError)
            mail.deliver({"kind": "staff", "to": ["a@b.example"], "subject": "s", "body": "b"})
        assert time.monotonic() - started < 3


def test_an_smtp_server_that_is_down_breaks_nothing(make_app, caplog):
    caplog.set_level(logging.INFO, logger="web.mail")
    app = make_app(**mail_config(free_port()))  # nobody listens there
    response = _submit(app.test_client())
    assert response.status_code == 200 and "on its way to ceo@volga.example" in response.get_data(as_text=True)
    assert "not sent" in _wait_for(caplog, "not sent", 10).getMessage()


def test_with_redis_each_message_is_a_queued_job(make_app):
    from rq import Queue

    from web.taskqueue import connection

    queue_name = f"test-mail-{uuid.uuid4().hex}"
    with smtp_server() as (port, inbox):
        app = make_app(**mail_config(port, REDIS_URL="redis://127.0.0.1:6379/0", MAIL_QUEUE=queue_name))
        assert _submit(app.test_client(), "ru").status_code == 200
        with app.app_context():
            queue = Queue(queue_name, connection=connection())
            try:
                assert queue.count == 2 and inbox.received == []  # nothing sent by the app process
                jobs = queue.jobs
                assert all(job.func_name == "web.worker.send_mail_job" and job.retries_left == 3 for job in jobs)
                for job in jobs:  # as a work horse of `matcher worker` runs them (a whole worker waits on
                    job.perform()  # its pub/sub thread for up to a minute when it stops)
                inbox.wait(2)
            finally:
                queue.delete(delete_jobs=True)
    assert "Здравствуйте!" in inbox.to("ceo@volga.example").get_content()


def test_matcher_worker_listens_to_the_mail_queue_first(make_app, monkeypatch):
    from rq import Worker

    from web import worker

    app = make_app(REDIS_URL="redis://127.0.0.1:6379/0", MAIL_QUEUE="m-q", BATCH_QUEUE="b-q")
    listened = []
    monkeypatch.setattr(Worker, "work", lambda self, **kw: listened.append(self.queue_names()) or True)
    assert worker.work(app, burst=True)
    assert listened == [["m-q", "b-q"]]


def test_redis_unreachable_sends_from_the_app_process(make_app, caplog):
    caplog.set_level(logging.INFO, logger="web.mail")
    with smtp_server() as (port, inbox):
        app = make_app(**mail_config(port, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_TIMEOUT=1))
        assert _submit(app.test_client()).status_code == 200
        inbox.wait(2)
    assert _wait_for(caplog, "sending from this process", 1)


def test_one_address_gets_a_limited_number_of_confirmations(make_app):
    with smtp_server() as (port, inbox):
        app = make_app(**mail_config(port, MAIL_CONFIRM_RATE_LIMIT="2 per hour"))
        client = app.test_client()
        for email in ("ceo@volga.example", "CEO@volga.example", "ceo@volga.example", "other@volga.example"):
            assert _submit(client, contact_email=email).status_code == 200
        received = inbox.wait(4 + 3)  # every lead is notified; a third confirmation to one address is not sent
        time.sleep(0.3)
    confirmations = [rcpt for rcpt, message in inbox.received if "analyst@hanoi.example" not in rcpt]
    assert sorted(r.lower() for rcpt in confirmations for r in rcpt) == [
        "ceo@volga.example",
        "ceo@volga.example",
        "other@volga.example",
    ], received
