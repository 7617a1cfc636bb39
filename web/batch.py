"""Batch upload: score a CSV in the background, show progress, results and downloads, import as leads."""

from __future__ import annotations

import csv
import itertools
import logging
import re
import shutil
import unicodedata
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matcher import InputFileError
from matcher.io.formats import CHARSETS, sniff
from matcher.profile import field_for

from . import dispatch, imports, jobs, services
from .extensions import db
from .forms import ActionForm, UploadForm, flash_errors
from .i18n import STATE_LABELS, current_lang
from .inputs import fit_name
from .models import BatchJob

bp = Blueprint("batch", __name__, url_prefix="/batch")
PREVIEW_CHARS = 200  # a cell longer than this is cut in the preview (the download keeps it whole)
# A cell may be as large as the upload (Python's csv module refuses fields over 128 KiB by default).
csv.field_size_limit(2**31 - 1)
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def require_login():
    """Batch pages need a staff login."""


@bp.route("", methods=("GET", "POST"))
def upload():
    """The upload form; a valid file starts a background job and shows its page."""
    form = UploadForm()
    if not form.is_submitted():
        form.lang.data = current_lang()
    elif form.validate():
        name = file_name(form.file.data.filename)  # at most the column's 255 characters
        job = jobs.prepare(
            BatchJob(user_id=current_user.id, filename=name, lang=form.lang.data, output=form.output.data)
        )
        db.session.add(job)
        db.session.flush()
        folder = jobs.job_dir(job.id)
        try:
            refusal = keep_upload(form.file.data, folder)
            if refusal is None:
                services.audit("batch.create", job, filename=job.filename)
                db.session.commit()
        except BaseException:  # whatever went wrong, a refused upload leaves nothing behind
            discard_upload(folder)
            raise
        if refusal is not None:
            discard_upload(folder)
            flash(_("This file cannot be scored: %(reason)s", reason=refusal), "error")
            return render_template("batch/upload.html", form=form, recent=recent_jobs()), 400
        dispatch.submit(job)
        return redirect(url_for("batch.show", job_id=job.id))
    else:
        flash_errors(form)
    return render_template("batch/upload.html", form=form, recent=recent_jobs())


#: Unicode categories of characters a file name loses: format characters (right-to-left overrides and other
#: bidi controls, zero-width characters, soft hyphens, byte order marks) and surrogates.
_DROPPED = ("Cf", "Cs")
#: Unicode categories of characters that become a space in a file name: control characters (CR, LF, tab...)
#: and the line and paragraph separators.
_SPACED = ("Cc", "Zl", "Zp")
_PATH = re.compile(r"[/\\]")


def file_name(name: str | None) -> str:
    """The name an uploaded file is kept, shown and downloaded under (``upload.csv`` when nothing is left).

    A multipart upload names its file as the client likes (``filename*=UTF-8''...`` holds any character):
    the name keeps the last part of a path (``/`` or ``\\``, also as their fullwidth forms once
    normalised, NFKC), loses format characters (U+202E would show ``invoice<U+202E>gpj.csv`` as
    "invoicevsc.jpg") and has control characters and line separators as spaces (a CR or LF in a header
    value is refused: every download of the job failed), spaces collapsed, no dots or spaces around its
    stem, at most the column's 255 characters (:func:`web.inputs.fit_name`).

    Examples
    --------
    >>> file_name("../../tmp/a\\r\\nSet-Cookie: x=1.csv")
    'a Set-Cookie: x=1.csv'
    >>> file_name("invoice\\u202egpj.csv"), file_name("\\u202e.csv"), file_name(None)
    ('invoicegpj.csv', 'upload.csv', 'upload.csv')
    """
    name = _PATH.split(unicodedata.normalize("NFKC", name or ""))[-1]
    name = "".join(
        " " if unicodedata.category(c) in _SPACED else c for c in name if unicodedata.category(c) not in _DROPPED
    )
    stem, dot, ext = " ".join(name.split()).rpartition(".")
    if not dot:
        stem, ext = ext, ""
    stem, ext = stem.strip(" ."), ext.strip()
    if not stem and not ext:
        return "upload.csv"
    return fit_name((stem or "upload") + ("." + ext if ext else ""))


def keep_upload(upload, folder: Path) -> str | None:
    """Save the upload as the job's input; why it cannot be scored, or None if it can."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        upload.save(folder / "input.csv")
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
    try:
        sniff(folder / "input.csv")
    except InputFileError as exc:
        return str(exc)
    return None


def discard_upload(folder: Path) -> None:
    """Undo a refused upload: no job row, no folder."""
    db.session.rollback()
    shutil.rmtree(folder, ignore_errors=True)


def recent_jobs() -> list[BatchJob]:
    """The last jobs, newest first (those whose process stopped shown as failed)."""
    recent = db.session.execute(db.select(BatchJob).order_by(BatchJob.id.desc()).limit(10)).scalars().all()
    for job in recent:
        jobs.check_stale(job)
    return recent


def get_job(job_id: int) -> BatchJob:
    """The job or a 404; a job whose process stopped is marked failed first."""
    if job_id >= 2**31:  # no id: PostgreSQL would refuse the number
        abort(404, _("No such batch job."))
    job = db.get_or_404(BatchJob, job_id, description=_("No such batch job."))
    jobs.check_stale(job)
    return job


def failure_text(job: BatchJob) -> str:
    """Why a failed job failed, in the user's language where the reason is the app's own."""
    if job.message == jobs.STOPPED:
        return _("The process running this job stopped; nothing was imported; you can run it again.")
    if job.message == jobs.UNQUEUED:
        return _("The task queue could not be reached, so the job was not started; you can run it again.")
    return _("This file cannot be scored: %(reason)s", reason=job.message)


def preview(job: BatchJob) -> tuple[list[str], list[list[str]]]:
    """Header and first rows of the scored file (the input column naming the firm is called ``name``)."""
    path = jobs.job_dir(job.id) / "scored.csv"
    if job.state != "done" or not path.exists():
        return [], []
    with open(path, encoding=job.out_encoding or "utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=job.out_delimiter or ",")
        rows = [
            [c if len(c) <= PREVIEW_CHARS else c[:PREVIEW_CHARS] + "…" for c in row]
            for row in itertools.islice(reader, current_app.config["BATCH_PREVIEW_ROWS"] + 1)
        ]
    if not rows:
        return [], []
    header = list(rows[0])
    named = next((i for i, h in enumerate(header) if field_for(h) == "name"), None)
    if named is not None and "name" not in header:
        header[named] = "name"
    return header, rows[1:]


@bp.get("/<int:job_id>")
def show(job_id: int):
    """A job's page: progress while it runs (polled by batch.js), then results and downloads."""
    job = get_job(job_id)
    header, rows = preview(job)
    importable = job.state != "done" or (jobs.job_dir(job.id) / "results.arrow").exists()
    return render_template(
        "batch/job.html",
        job=job,
        header=header,
        rows=rows,
        form=ActionForm(),
        importable=importable,
        failure=failure_text(job) if job.state == "failed" else None,
        import_limit=current_app.config.get("BATCH_IMPORT_LIMIT") or None,
    )


@bp.get("/<int:job_id>/status.json")
def status(job_id: int):
    """The job's state and progress as JSON."""
    job = get_job(job_id)
    db.session.refresh(job)
    return jsonify(
        id=job.id,
        state=job.state,
        progress=round(job.progress, 3),
        rows=job.rows,
        scored=job.scored,
        errors=job.errors,
        message=job.message,
        import_state=job.import_state,
        imported=job.imported,
    )


@bp.get("/<int:job_id>/<any(scored, errors):kind>.csv")
def download(job_id: int, kind: str):
    """Download the scored file or the error report."""
    job = get_job(job_id)
    name = "scored.csv" if kind == "scored" else "scored.errors.csv"
    path = jobs.job_dir(job.id) / name
    if job.state != "done" or not path.exists():
        abort(404)
    # named after the upload, cleaned again: a job uploaded before names were cleaned may hold any character
    stem = file_name(job.filename).rsplit(".", 1)[0] or "upload"
    response = send_file(path.resolve(), mimetype="text/csv", as_attachment=True, download_name=f"{stem}.{kind}.csv")
    # Browsers and spreadsheets that read the header then decode the file as it was written.
    response.mimetype_params["charset"] = CHARSETS.get(job.out_encoding or "utf-8", "utf-8")
    return response


@bp.post("/<int:job_id>/rerun")
def rerun(job_id: int):
    """Run a failed job again (its next attempt), from its uploaded file."""
    job = get_job(job_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not jobs.requeue(job):
        db.session.rollback()
        flash(_("Only a failed job can be run again; this one is %(state)s.", state=STATE_LABELS[job.state]), "error")
        return redirect(url_for("batch.show", job_id=job.id))
    services.audit("batch.rerun", job, attempt=job.attempts)
    db.session.commit()
    jobs.clear_outputs(job)
    dispatch.submit(job)
    return redirect(url_for("batch.show", job_id=job.id))


@bp.post("/<int:job_id>/import")
def import_leads(job_id: int):
    """Import the job's scored rows as leads in the background (or continue an import that stopped)."""
    job = get_job(job_id)
    if not ActionForm().validate_on_submit() or job.state != "done" or job.import_state == "done":
        abort(400)
    if not (jobs.job_dir(job.id) / "results.arrow").exists():  # scored before jobs kept their results
        abort(400, _("This job was scored before the app kept results for the import: upload the file again."))
    if not imports.start(job):
        db.session.rollback()
        flash(_("These rows are being imported already."), "info")
        return redirect(url_for("batch.show", job_id=job_id))
    services.audit("batch.import_start", job, from_row=job.imported_rows)
    db.session.commit()
    dispatch.submit(job, "run_import")
    return redirect(url_for("batch.show", job_id=job_id))
