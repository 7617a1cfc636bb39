"""Follow-up tasks with due dates (and the overdue list), and the activity log of each lead (call, meeting, e-mail)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from . import services
from .extensions import db
from .forms import ActivityForm, TaskForm, choices
from .inputs import local_path
from .leads import get_lead, staff_choices
from .models import ACTIVITY_KINDS, Activity, Task, utcnow

bp = Blueprint("followup", __name__, url_prefix="/leads")
ACTIVITY_LABELS = {"call": _l("call"), "meeting": _l("meeting"), "email": _l("e-mail")}


@bp.before_request
@login_required
def require_login():
    """Tasks and activities are for staff."""


def _flash_errors(form) -> None:
    for name, errors in form.errors.items():
        for error in errors:
            flash(f"{form[name].label.text}: {error}", "error")


@bp.app_template_global()
def task_form(lead) -> TaskForm:
    """An empty task form for the lead page (due in a week, for whoever the lead is assigned to)."""
    form = TaskForm(
        prefix="task",
        formdata=None,
        data={"assignee": lead.assigned_to_id or current_user.id, "due_on": date.today() + timedelta(days=7)},
    )
    form.assignee.choices = choices(staff_choices())
    return form


@bp.app_template_global()
def activity_form() -> ActivityForm:
    """An empty activity form for the lead page (today)."""
    form = ActivityForm(prefix="activity", formdata=None, data={"happened_on": date.today()})
    form.kind.choices = choices((k, str(ACTIVITY_LABELS[k])) for k in ACTIVITY_KINDS)
    return form


@bp.app_template_global()
def today() -> date:
    """Today's date (for due dates on pages)."""
    return date.today()


@bp.app_template_global()
def activity_label(kind: str) -> str:
    return str(ACTIVITY_LABELS.get(kind, kind))


@bp.post("/<int:lead_id>/tasks")
def add_task(lead_id: int):
    """Plan a follow-up on the lead, due on a date, for a staff member (audited)."""
    lead = get_lead(lead_id)
    form = TaskForm(prefix="task")
    form.assignee.choices = choices(staff_choices())
    if form.validate_on_submit():
        task = Task(
            title=form.title.data.strip(),
            due_on=form.due_on.data,
            assignee_id=form.assignee.data or None,
            created_by_id=current_user.id,
        )
        lead.tasks.append(task)
        services.audit("task.add", lead, title=task.title, due=task.due_on.isoformat())
        db.session.commit()
        flash(_("Follow-up planned for %(date)s.", date=task.due_on.isoformat()), "success")
    else:
        _flash_errors(form)
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#tasks")


@bp.post("/<int:lead_id>/tasks/<int:task_id>/done")
def finish_task(lead_id: int, task_id: int):
    """Mark a follow-up done (audited)."""
    lead = get_lead(lead_id)
    task = next((t for t in lead.tasks if t.id == task_id), None)
    if task is None:
        abort(404)
    if task.done_at is None:
        task.done_at = utcnow()
        services.audit("task.done", lead, title=task.title)
        db.session.commit()
        flash(_("Follow-up done."), "success")
    return redirect(local_path(request.form.get("next")) or url_for("leads.detail", lead_id=lead.id) + "#tasks")


@bp.post("/<int:lead_id>/activities")
def add_activity(lead_id: int):
    """Log a call, meeting or e-mail with the firm (audited)."""
    lead = get_lead(lead_id)
    form = ActivityForm(prefix="activity")
    form.kind.choices = choices((k, str(ACTIVITY_LABELS[k])) for k in ACTIVITY_KINDS)
    if form.validate_on_submit():
        lead.activities.append(
            Activity(
                kind=form.kind.data,
                happened_on=form.happened_on.data,
                summary=form.summary.data.strip(),
                user_id=current_user.id,
            )
        )
        services.audit("activity.add", lead, kind=form.kind.data, on=form.happened_on.data.isoformat())
        db.session.commit()
        flash(_("Activity logged."), "success")
    else:
        _flash_errors(form)
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#activities")


@bp.get("/tasks")
def tasks():
    """Open follow-ups, overdue first: the user's own by default, everyone's with ``?all=1``."""
    everyone = bool(request.args.get("all"))
    query = (
        db.select(Task)
        .where(Task.done_at.is_(None))
        .order_by(Task.due_on, Task.id)
        .options(selectinload(Task.lead), selectinload(Task.assignee))
    )
    if not everyone:
        query = query.where(Task.assignee_id == current_user.id)
    items = list(db.session.execute(query.limit(500)).scalars())
    today = date.today()
    return render_template(
        "leads/tasks.html",
        overdue=[t for t in items if t.due_on < today],
        upcoming=[t for t in items if t.due_on >= today],
        everyone=everyone,
        today=today,
    )
