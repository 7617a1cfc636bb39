"""Batch upload: score a CSV in the background, show progress, results and downloads, import as leads."""

from __future__ import annotations

import csv
import itertools

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matcher import InputFileError
from matcher.batch import sniff

from . import jobs, services
from .extensions import db
from .forms import ActionForm, UploadForm, flash_errors
from .i18n import current_lang
from .models import BatchJob

bp = Blueprint("batch", __name__, url_prefix="/batch")


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
        job = BatchJob(user_id=current_user.id, filename=form.file.data.filename or "upload.csv",
                       lang=form.lang.data, state="queued")
        db.session.add(job)
        db.session.flush()
        folder = jobs.job_dir(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        form.file.data.save(folder / "input.csv")
        try:
            sniff(folder / "input.csv")
        except InputFileError as exc:
            db.session.rollback()
            flash(_("This file cannot be scored: %(reason)s", reason=str(exc)), "error")
            return render_template("batch/upload.html", form=form, recent=recent_jobs()), 400
        services.audit("batch.create", job, filename=job.filename)
        db.session.commit()
        jobs.submit(job.id)
        return redirect(url_for("batch.show", job_id=job.id))
    else:
        flash_errors(form)
    return render_template("batch/upload.html", form=form, recent=recent_jobs())


def recent_jobs() -> list[BatchJob]:
    """The last jobs, newest first."""
    return db.session.execute(db.select(BatchJob).order_by(BatchJob.id.desc()).limit(10)).scalars().all()


def get_job(job_id: int) -> BatchJob:
    """The job or a 404."""
    return db.get_or_404(BatchJob, job_id, description=_("No such batch job."))


def preview(job: BatchJob) -> tuple[list[str], list[list[str]]]:
    """Header and first rows of the scored file."""
    path = jobs.job_dir(job.id) / "scored.csv"
    if job.state != "done" or not path.exists():
        return [], []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(itertools.islice(csv.reader(handle), current_app.config["BATCH_PREVIEW_ROWS"] + 1))
    return (rows[0], rows[1:]) if rows else ([], [])


@bp.get("/<int:job_id>")
def show(job_id: int):
    """A job's page: progress while it runs (polled by batch.js), then results and downloads."""
    job = get_job(job_id)
    header, rows = preview(job)
    return render_template("batch/job.html", job=job, header=header, rows=rows, form=ActionForm())


@bp.get("/<int:job_id>/status.json")
def status(job_id: int):
    """The job's state and progress as JSON."""
    job = get_job(job_id)
    db.session.refresh(job)
    return jsonify(id=job.id, state=job.state, progress=round(job.progress, 3), rows=job.rows, scored=job.scored,
                   errors=job.errors, message=job.message)


@bp.get("/<int:job_id>/<any(scored, errors):kind>.csv")
def download(job_id: int, kind: str):
    """Download the scored file or the error report."""
    job = get_job(job_id)
    name = "scored.csv" if kind == "scored" else "scored.errors.csv"
    path = jobs.job_dir(job.id) / name
    if job.state != "done" or not path.exists():
        abort(404)
    stem = job.filename.rsplit(".", 1)[0] or "upload"
    return send_file(path.resolve(), mimetype="text/csv", as_attachment=True,
                     download_name=f"{stem}.{kind}.csv" if kind == "errors" else f"{stem}.scored.csv")


@bp.post("/<int:job_id>/import")
def import_leads(job_id: int):
    """Store the job's scorable rows as leads (up to BATCH_IMPORT_LIMIT rows)."""
    job = get_job(job_id)
    if not ActionForm().validate_on_submit() or job.state != "done" or job.imported:
        abort(400)
    limit = current_app.config.get("BATCH_IMPORT_LIMIT", 5000)
    profiles = read_profiles(job, limit)
    stored, skipped = services.create_leads(profiles, "batch", job.lang)
    job.imported = stored
    services.audit("batch.import", job, leads=stored, skipped=skipped)
    db.session.commit()
    flash(_("%(n)s rows imported as leads.", n=stored), "success")
    return redirect(url_for("leads.index", sort="created"))


def read_profiles(job: BatchJob, limit: int) -> list[dict[str, str]]:
    """The job's input rows as mappings, read with the CLI's sniffer (encoding, delimiter)."""
    path = jobs.job_dir(job.id) / "input.csv"
    fmt = sniff(path)
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=fmt.delimiter)
        header = [h.lstrip("\ufeff") for h in next(reader, [])]
        return [dict(zip(header, row, strict=False)) for row in itertools.islice(reader, limit)]
