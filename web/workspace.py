"""The team's workspace on the lead list: actions on selected leads, and saved views (named filters)."""

from __future__ import annotations

import io
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import erasure, services
from .extensions import db
from .forms import BulkDeleteForm, SavedViewForm
from .i18n import STATUS_LABELS
from .inputs import local_path
from .listview import list_shell
from .models import STATUSES, Lead, SavedView, User

bp = Blueprint("workspace", __name__, url_prefix="/leads")
MAX_SELECTED = 500  # leads one bulk action may touch
#: Query arguments a saved view keeps (the list's filters and order).
VIEW_ARGS = ("q", "sector", "band", "status", "source", "mine", "verified", "min_completeness", "sort", "dir")


@bp.before_request
@login_required
def require_login():
    """Workspace actions are for staff."""


def selected_leads() -> list[Lead]:
    """The leads ticked in the list (ids from the form), in id order; unknown ids are ignored."""
    ids = sorted({int(v) for v in request.form.getlist("ids") if v.isdigit() and int(v) < 2**31})
    if len(ids) > MAX_SELECTED:
        abort(413, _("Select at most %(n)s leads at once.", n=MAX_SELECTED))
    if not ids:
        return []
    query = db.select(Lead).where(Lead.id.in_(ids)).order_by(Lead.id)
    return list(db.session.execute(query.options(selectinload(Lead.assigned_to))).scalars())


def _back():
    return redirect(local_path(request.form.get("next")) or url_for("leads.index"))


@bp.post("/bulk")
def bulk():
    """Assign, move, export or (after confirmation) delete the selected leads."""
    leads, action = selected_leads(), request.form.get("action", "")
    if not leads:
        flash(_("Select at least one lead first."), "error")
        return _back()
    if action == "export":
        return _export(leads)
    if action == "delete":
        return render_template(
            "leads/bulk_delete.html", leads=leads, form=BulkDeleteForm(formdata=None), next=request.form.get("next")
        )
    if action == "assign":
        return _assign(leads, request.form.get("assignee", type=int))
    if action == "status":
        return _status(leads, request.form.get("status", ""))
    flash(_("Choose what to do with the selected leads."), "error")
    return _back()


def _assign(leads: list[Lead], user_id: int | None):
    user = db.session.get(User, user_id) if user_id else None
    if user_id and (user is None or not user.active):
        flash(_("No such staff member."), "error")
        return _back()
    changed = sum(services.assign(lead, user) for lead in leads)
    db.session.commit()
    flash(
        _(
            "%(n)s of %(total)s leads assigned to %(name)s.",
            n=changed,
            total=len(leads),
            name=user.username if user else "—",
        ),
        "success",
    )
    return _back()


def _status(leads: list[Lead], status: str):
    if status not in STATUSES:
        flash(_("Choose a status."), "error")
        return _back()
    changed = sum(services.set_status(lead, status) for lead in leads)
    db.session.commit()
    flash(
        _("%(n)s of %(total)s leads moved to %(status)s.", n=changed, total=len(leads), status=STATUS_LABELS[status]),
        "success",
    )
    return _back()


def _export(leads: list[Lead]) -> Response:
    out = io.StringIO()
    services.write_csv(out, [services.export_header(), *services.export_rows(leads)])
    services.audit("lead.export", None, rows=len(leads), ids=[lead.id for lead in leads])
    db.session.commit()
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=leads-selected.csv"},
    )


@bp.post("/bulk/delete")
def bulk_delete():
    """Delete the selected leads once the number of leads is typed and a reason given (audited, one entry each)."""
    leads = selected_leads()
    form = BulkDeleteForm()
    form.expected = len(leads)
    if not leads or not form.validate_on_submit():
        return render_template("leads/bulk_delete.html", leads=leads, form=form, next=request.form.get("next")), 400
    for lead in leads:
        erasure.delete(lead, form.reason.data.strip())
    db.session.commit()
    flash(_("%(n)s leads were deleted.", n=len(leads)), "success")
    return _back()


def view_query(args) -> str:
    """The query string a saved view keeps: the list's filters and order, nothing else (no page)."""
    return urlencode([(k, args[k]) for k in VIEW_ARGS if args.get(k)])


@bp.app_template_global()
def saved_views() -> list:
    """The logged-in user's saved views, by name (rows of id, name and query)."""
    return list_shell()["views"]


@bp.post("/views")
def save_view():
    """Save the list's current filters under a name (the same name replaces that view)."""
    form = SavedViewForm()
    query = view_query(request.form)
    if not form.validate_on_submit():
        for error in form.name.errors:
            flash(str(error), "error")
        return redirect(url_for("leads.index") + ("?" + query if query else ""))
    name = form.name.data.strip()
    view = db.session.execute(db.select(SavedView).filter_by(user_id=current_user.id, name=name)).scalar_one_or_none()
    if view is None:
        db.session.add(SavedView(user_id=current_user.id, name=name, query=query))
    else:
        view.query = query
    try:
        db.session.commit()
    except IntegrityError:  # the same name saved at the same moment in another tab
        db.session.rollback()
    flash(_("View “%(name)s” saved.", name=name), "success")
    return redirect(url_for("leads.index") + ("?" + query if query else ""))


@bp.post("/views/<int:view_id>/delete")
def delete_view(view_id: int):
    """Delete one of the user's own saved views."""
    view = db.session.get(SavedView, view_id) if view_id < 2**31 else None
    if view is None or view.user_id != current_user.id:
        abort(404)
    db.session.delete(view)
    db.session.commit()
    flash(_("View “%(name)s” deleted.", name=view.name), "success")
    return redirect(url_for("leads.index"))


@bp.app_template_global()
def staff_options() -> list[tuple[int, str]]:
    """Staff a lead can be assigned to, for the bulk toolbar (0 = nobody)."""
    return [(0, "—"), *[(row.id, row.name) for row in list_shell()["staff"]]]


@bp.app_template_global()
def overdue_count() -> int:
    """How many of the logged-in user's open follow-ups are past their due date."""
    return list_shell()["overdue"]
