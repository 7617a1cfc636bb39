"""Hostile names of uploaded files (/batch): line breaks, paths, bidi overrides and other invisible characters.

A multipart upload names its file as the client likes (``filename*=UTF-8''…`` can hold any character). The
job keeps a cleaned name (the last part of a path, no control, format or line-separator characters, a
fallback when nothing is left), shows it on the upload and job pages, and its downloads are named after it:
never a 500 (a header value with a newline), never a path or a right-to-left override in Content-Disposition.
"""

from __future__ import annotations

import html
import re

import pytest
from web_testlib import wait_done
from werkzeug.http import parse_options_header

from web.extensions import db
from web.models import BatchJob

CSV = b"name,description,employees\nVolga Robotics,industrial robots,120\nBroken Ltd,robots,many\n"
BOUNDARY = "hostile-name-boundary"
#: Characters no download name or shown job name may hold.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff/\\\\]")


def post_named(client, disposition: bytes):
    """POST the CSV to /batch with ``disposition`` (``filename=...`` or ``filename*=...``) as its file's name."""
    body = b"".join(
        [
            f"--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="file"; ' + disposition + b"\r\n",
            b"Content-Type: text/csv\r\n\r\n",
            CSV,
            f"\r\n--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="lang"\r\n\r\nen',
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )
    return client.post("/batch", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def download_name(response) -> str:
    """The file name a browser saves a download under (``filename*`` when given, else ``filename``)."""
    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    kind, options = parse_options_header(header)
    assert kind == "attachment"
    return options["filename"]


@pytest.mark.parametrize(
    ("disposition", "stored"),
    [
        (b"filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3D1.csv", "a Set-Cookie: x=1.csv"),
        (b"filename*=UTF-8''firms%0A.csv", "firms.csv"),
        (b'filename="../../../../tmp/x.csv"', "x.csv"),
        (b'filename="C:\\\\Users\\\\me\\\\firms.csv"', "firms.csv"),
        (b"filename*=UTF-8''%EF%BC%8Fetc%EF%BC%8Fx.csv", "x.csv"),  # fullwidth solidus: "/" once normalised
        (b"filename*=UTF-8''invoice%E2%80%AEgpj.csv", "invoicegpj.csv"),  # shown as "invoicevsc.jpg"
        (b"filename*=UTF-8''%E2%81%A7a%E2%80%8Bb%C2%AD%EF%BB%BF.csv", "ab.csv"),  # isolate, zero width, soft hyphen
        (b"filename*=UTF-8''a%E2%80%A8b%09c%C2%A0%20d.csv", "a b c d.csv"),  # line separator, tab, spaces
        (b"filename*=UTF-8''..%2F.csv", "upload.csv"),
        (b"filename*=UTF-8''%E2%80%AE%0D%0A.csv", "upload.csv"),
        (b"filename*=UTF-8''%20.%20.csv", "upload.csv"),
        (b"filename*=UTF-8''C%C3%B4ng%20ty%20%C4%90i%E1%BB%87n%20t%E1%BB%AD.csv", "Công ty Điện tử.csv"),
        (b"filename*=UTF-8''%D0%A0%D0%BE%D0%B1%D0%BE%D1%82%D0%B5%D1%85.tsv", "Роботех.tsv"),
    ],
    ids=[
        "crlf-header",
        "lf",
        "dotdot-path",
        "windows-path",
        "fullwidth-solidus",
        "bidi-override",
        "invisible",
        "separators",
        "nothing-but-a-path",
        "nothing-but-controls",
        "nothing-but-dots",
        "vietnamese",
        "russian",
    ],
)
def test_a_hostile_file_name_is_cleaned_shown_and_downloaded_safely(client, auth, app, disposition, stored):
    auth.login()
    response = post_named(client, disposition)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["state"] == "done"
    with app.app_context():
        assert db.session.get(BatchJob, job_id).filename == stored
    # the job page and the upload page's list of recent jobs name it as stored
    page = client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert f"<h1>{html.escape(stored, quote=False)}</h1>" in page
    listing = client.get("/batch").get_data(as_text=True)
    assert f">{html.escape(stored, quote=False)}</a>" in listing
    stem = stored.rsplit(".", 1)[0]
    for kind in ("scored", "errors"):
        with client.get(f"/batch/{job_id}/{kind}.csv") as download:
            assert download.status_code == 200
            assert "Set-Cookie" not in download.headers
            name = download_name(download)
        assert name == f"{stem}.{kind}.csv" and not UNSAFE.search(name)


@pytest.mark.parametrize(
    ("kept", "expected"),
    [
        ("a\r\nSet-Cookie: x=1.csv", "a Set-Cookie: x=1"),
        ("../../../../tmp/x.csv", "x"),
        ("invoice\u202egpj.csv", "invoicegpj"),
        ("\u202e\r\n", "upload"),
        ("firms", "firms"),
    ],
    ids=["crlf", "path", "bidi-override", "nothing-left", "no-extension"],
)
def test_a_job_stored_with_a_hostile_name_still_downloads(client, auth, app, kept, expected):
    # a job uploaded before names were cleaned keeps its name in the database: its downloads still work
    auth.login()
    response = post_named(client, b'filename="firms.csv"')
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["state"] == "done"
    with app.app_context():
        db.session.get(BatchJob, job_id).filename = kept
        db.session.commit()
    for kind in ("scored", "errors"):
        with client.get(f"/batch/{job_id}/{kind}.csv") as download:
            assert download.status_code == 200
            name = download_name(download)
        assert name == f"{expected}.{kind}.csv" and not UNSAFE.search(name)
