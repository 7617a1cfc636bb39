"""Database models: leads with their scored assessments, notes, staff users, batch jobs, audit log."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from matcher.fields import REGISTRY
from matcher.profile import COMMITMENT_FIELDS

from .extensions import db

#: Pipeline of a lead, in order; the last two are both final.
STATUSES = ("new", "contacted", "meeting", "proposal", "invested", "dropped")
SOURCES = ("assess", "batch", "sample", "api", "manual")
ROLES = ("analyst", "admin")
JOB_STATES = ("queued", "running", "done", "failed")
#: Commitments whose evidence staff track, and how each can be backed.
COMMITMENTS = COMMITMENT_FIELDS  # the data contract's commitment fields, defined once in matcher
EVIDENCE = ("declared", "verified", "estimated")
#: Profile fields stored as columns of :class:`Lead`: every field of the registry (matcher/fields.py) in its
#: order, ``id`` aside (kept as ``ext_id``). A new field needs a migration adding its column.
PROFILE_COLUMNS = tuple(f.name for f in REGISTRY if f.name != "id")


def stated(lead) -> tuple[str, ...]:
    """Commitments a lead answers (any answer): of a :class:`Lead`, or of a row with its commitment columns."""
    return tuple(f for f in COMMITMENTS if getattr(lead, f))


def utcnow() -> datetime:
    """The current time in UTC, without tzinfo (both databases store it the same way)."""
    return datetime.now(UTC).replace(tzinfo=None)


def token_digest(token: str) -> str:
    """SHA-256 of an API token: tokens are random, so a fast digest is enough and allows lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


class User(UserMixin, db.Model):
    """A staff member: analyst or admin."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="analyst")
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def set_password(self, password: str, method: str = "scrypt") -> None:
        """Store a salted hash of ``password`` (werkzeug's ``method``; scrypt by default)."""
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    #: The token of the login session this object was loaded for (not a column): see :meth:`get_id`.
    session_token = None  # str | None; unannotated so the ORM leaves it unmapped

    def get_id(self) -> str:
        """Flask-Login's id: ``"<user id>:<session token>"``, so every session can be ended server-side.

        The session cookie and the remember cookie carry this string. A cookie whose token has no
        :class:`LoginSession` row (ended by logout, a password change or deactivation) logs nobody in.
        """
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active


class LoginSession(db.Model):
    """One staff login (a browser session and its remember cookie), ended server-side by deleting the row.

    Only a digest of the session token is stored; the token itself lives in the signed cookie.
    """

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: One nullable text column per profile field (the answers as given), ``name`` aside (required, on :class:`Lead`).
ProfileColumns = type("ProfileColumns", (), {f: mapped_column(Text) for f in PROFILE_COLUMNS if f != "name"})


class Lead(ProfileColumns, db.Model):
    """A firm as a lead: its profile as given (the profile columns come from :data:`ProfileColumns`), the latest
    score, and its place in the pipeline."""

    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(primary_key=True)
    ext_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    extras: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16), default="assess")
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Copied from the latest assessment so the list can filter and sort in SQL.
    score: Mapped[float | None] = mapped_column(index=True)
    band: Mapped[str | None] = mapped_column(String(4), index=True)
    sector: Mapped[str | None] = mapped_column(String(40), index=True)
    completeness: Mapped[float | None]
    # The score as a non-null sort key (-1 when unscored): ``ORDER BY sort_score, id`` is served by one index on
    # both databases in both directions, where ``score DESC NULLS LAST`` could not use the score index.
    sort_score: Mapped[float] = mapped_column(default=-1.0, server_default="-1")
    # SEARCHED fields folded by web.search.fold (no case, no accents), written on every save: see _fold_search.
    search_text: Mapped[str | None] = mapped_column(Text)
    # Set when the firm withdrew consent and staff anonymised the lead (its numbers stay for statistics).
    anonymised_at: Mapped[datetime | None]
    # Firm identifiers (digits only) and the keys duplicates are found by (web.dedup), the keys written on save.
    inn: Mapped[str | None] = mapped_column(String(12), index=True)
    ogrn: Mapped[str | None] = mapped_column(String(15), index=True)
    name_key: Mapped[str | None] = mapped_column(String(300), index=True)
    web_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    mail_domain: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic locking: bumped by every save; a form carries the one it was read at.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # SQLAlchemy adds "AND row_version = <as loaded>" to every UPDATE of a lead and bumps it; no row
    # matched means someone saved in between: StaleDataError, which the lead pages turn into a 409.
    __mapper_args__ = {"version_id_col": row_version, "eager_defaults": False}
    # The list's orders (web/listing.py): each sort column with the id as tie-break, in one index; and
    # LIKE '%word%' on the folded text, served by a trigram index on PostgreSQL (SQLite scans: no such index)
    __table_args__ = (
        *(
            Index(f"ix_leads_{name}_id", name, "id")
            for name in ("sort_score", "name", "status", "created_at", "completeness", "sector", "band")
        ),
        Index(
            "ix_leads_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "public.gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    assigned_to: Mapped[User | None] = relationship()
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="lead", order_by="Assessment.id.desc()", cascade="all, delete-orphan"
    )
    notes: Mapped[list[Note]] = relationship(
        back_populates="lead", order_by="Note.id.desc()", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="lead", order_by="Evidence.id", cascade="all, delete-orphan"
    )
    activities: Mapped[list[Activity]] = relationship(
        back_populates="lead",
        order_by=lambda: [Activity.happened_on.desc(), Activity.id.desc()],
        cascade="all, delete-orphan",
    )
    tasks: Mapped[list[Task]] = relationship(
        back_populates="lead", order_by=lambda: [Task.due_on, Task.id], cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="lead", order_by="Contact.id", cascade="all, delete-orphan"
    )
    # Every sector the latest assessment detected (main first), kept in step by services.record_result.
    sector_rows: Mapped[list[LeadSector]] = relationship(
        order_by=lambda: [LeadSector.main.desc(), LeadSector.sector], cascade="all, delete-orphan"
    )

    def evidence_of(self, field: str) -> str:
        """How a commitment is backed: ``declared`` (the default), ``verified`` or ``estimated``."""
        return next((e.status for e in self.evidence if e.field == field), "declared")

    def stated(self) -> tuple[str, ...]:
        """Commitments the firm answers (any answer)."""
        return stated(self)

    def unverified(self) -> tuple[str, ...]:
        """Commitments the firm states that staff have not verified."""
        return tuple(f for f in self.stated() if self.evidence_of(f) != "verified")

    @property
    def latest(self) -> Assessment | None:
        """The most recent assessment."""
        return self.assessments[0] if self.assessments else None

    def profile(self) -> dict[str, Any]:
        """The profile as a contract mapping (``id`` is the caller's key), extras included."""
        data = {"id": self.ext_id, **{f: getattr(self, f) for f in PROFILE_COLUMNS}}
        return {**(self.extras or {}), **{k: v for k, v in data.items() if v not in (None, "")}}


@event.listens_for(Lead, "before_insert")
@event.listens_for(Lead, "before_update")
def _keep_sort_score(_mapper, _connection, lead: Lead) -> None:
    """Keep :attr:`Lead.sort_score` equal to the score (or -1 without one) on every save."""
    lead.sort_score = lead.score if lead.score is not None else -1.0


#: Lead fields the list's search box looks in (folded into ``Lead.search_text``).
SEARCHED = ("name", "description", "okved", "city", "contact_email", "ext_id", "website", "inn", "ogrn")


@event.listens_for(Lead, "before_insert")
@event.listens_for(Lead, "before_update")
def _fold_search(_mapper, _connection, lead: Lead) -> None:
    """Keep ``search_text`` and the duplicate keys in step with the lead's fields on every write."""
    from .dedup import keys_of
    from .search import fold_fields

    lead.search_text = fold_fields(getattr(lead, f) for f in SEARCHED)
    for key, value in keys_of(lead).items():
        setattr(lead, key, value[:255] if value else None)


class Contact(db.Model):
    """A person staff deal with at a lead's firm."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="contacts")


class LeadSector(db.Model):
    """One sector detected in a lead's latest assessment: its share of the firm (0..1 when known), main or not.

    The lead list filters on this table, so a firm whose second sector is electronics is found under
    electronics; the facet counts beside the sector filter count its rows.
    """

    __tablename__ = "lead_sectors"
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    share: Mapped[float | None]
    main: Mapped[bool] = mapped_column(default=False)


class Assessment(db.Model):
    """One scoring of a lead, with the numbers the model computed and the weights version used."""

    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    score: Mapped[float]
    band: Mapped[str] = mapped_column(String(4))
    sector: Mapped[str | None] = mapped_column(String(40))
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    matched_sectors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    completeness: Mapped[float]
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    improvements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    explanation: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(5), default="en")
    # The same explanation and advice worded in every language: {lang: {"explanation", "advice": {field: text}}}.
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    weights_version: Mapped[str] = mapped_column(String(80))  # the label of weights_version_id's row
    weights_version_id: Mapped[int | None] = mapped_column(ForeignKey("weights_versions.id"))
    unverified_factor: Mapped[float | None]  # the factor unverified commitments were scored with
    sector_confidence: Mapped[float | None]  # how sure the sector detection was (None: scored before 0006)
    # OKVED classes the description reads like, [{"code", "title"}] best first (None: scored before 0017).
    okved_suggested: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="assessments")

    def explanation_in(self, lang: str) -> str:
        """The explanation in ``lang`` if it was worded in it, else as scored."""
        return (self.texts or {}).get(lang, {}).get("explanation") or self.explanation

    def improvements_in(self, lang: str) -> list[dict[str, Any]]:
        """The improvements (same gains) with their advice in ``lang`` where available."""
        advice = (self.texts or {}).get(lang, {}).get("advice", {})
        return [{**item, "advice": advice.get(item["field"], item["advice"])} for item in self.improvements]

    def shown_in(self, lang: str) -> dict[str, Any]:
        """What a page shows of this assessment, worded in ``lang``."""
        return {
            "contributions": self.contributions,
            "sectors": self.matched_sectors,
            "missing": self.missing,
            "completeness": self.completeness,
            "improvements": self.improvements_in(lang),
            "explanation": self.explanation_in(lang),
        }


class Note(db.Model):
    """A staff note on a lead."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class AuditLog(db.Model):
    """Who changed what, and when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()


class BatchJob(db.Model):
    """An uploaded CSV being scored in the background: state, progress and output files."""

    __tablename__ = "batch_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    lang: Mapped[str] = mapped_column(String(5), default="en")
    state: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    rows: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    imported: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # Runs so far, the last sign of life of the process running it, which process, its queue job id.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(80))
    queue_id: Mapped[str | None] = mapped_column(String(64))
    # The import as leads goes in chunks: ``imported_rows`` input rows gone through (it resumes there),
    # ``imported`` leads stored; ``import_state`` None (not started), queued, running, partial, failed or done.
    imported_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    import_state: Mapped[str | None] = mapped_column(String(10))
    # The process holding the job (host, pid, start time): a missed heartbeat is "stopped" only once it is gone.
    worker_host: Mapped[str | None] = mapped_column(String(255))
    worker_pid: Mapped[int | None]
    worker_started: Mapped[str | None] = mapped_column(String(40))
    # The weights version (label and row) and the factor for unverified claims the job scored with: the
    # import stores these with each lead, whatever the current version is by then.
    weights_version: Mapped[str | None] = mapped_column(String(80))
    weights_version_id: Mapped[int | None] = mapped_column(ForeignKey("weights_versions.id"))
    unverified_factor: Mapped[float | None]
    # How the scored file is written: the choice of the upload form (``matcher.io.formats.OUTPUT_ENCODINGS``),
    # then what the run wrote (encoding, delimiter), and the input columns it did not score.
    output: Mapped[str] = mapped_column(String(10), default="input", server_default="utf-8")
    out_encoding: Mapped[str | None] = mapped_column(String(12))
    out_delimiter: Mapped[str | None] = mapped_column(String(1))
    ignored_columns: Mapped[list | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()


class WeightsVersion(db.Model):
    """A saved weights set (``matcher.weights.weights_of`` data): who saved it, when and why."""

    __tablename__ = "weights_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)  # "v2 3fa1b2c4d5e6": stored with assessments
    fingerprint: Mapped[str] = mapped_column(String(12))
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class Evidence(db.Model):
    """How one commitment of a lead is backed, set by staff with a note (no row = declared)."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("lead_id", "field"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="evidence")
    user: Mapped[User | None] = relationship()


class Setting(db.Model):
    """An admin setting (robustness spread and k, factor for unverified claims) as JSON."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class LeadRank(db.Model):
    """A lead's rank and its robustness under the weights of the ranking in :class:`RankState`.

    Written in the background (:mod:`web.ranks`): for every lead at once when the weights or
    the ranking settings change, for a new lead on its own. ``subscores`` is the lead's row of
    the sub-score matrix, so a new lead is ranked against the others without scoring them again.
    """

    __tablename__ = "lead_ranks"
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    base: Mapped[int]  # rank under the weights themselves (1 = best, ties share)
    low: Mapped[int]  # 5th-95th percentile of the rank when the weights vary within the spread
    median: Mapped[int]
    high: Mapped[int]
    p_top_k: Mapped[float]  # share of weightings keeping the lead in the top k
    subscores: Mapped[list[float]] = mapped_column(JSON)
    as_of: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(
        backref=backref("rank", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
    )


class RankState(db.Model):
    """The one row (id 1) saying what the stored ranks are for, and who is computing them now.

    ``key`` names the weights version and settings of the stored ranks; ``holder`` and
    ``held_until`` are a lease: a process computes ranks only after taking it with a conditional
    UPDATE (the same on SQLite and PostgreSQL), so one computation runs at a time across processes.
    """

    __tablename__ = "rank_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(200))
    version_label: Mapped[str | None] = mapped_column(String(80))
    spread: Mapped[float | None]
    top_k: Mapped[int | None]
    n_samples: Mapped[int | None]
    n_leads: Mapped[int] = mapped_column(default=0, server_default="0")  # leads ranked at the last full run
    n_added: Mapped[int] = mapped_column(default=0, server_default="0")  # leads ranked on their own since then
    as_of: Mapped[datetime | None]  # end of the last full run
    ranked_at: Mapped[datetime | None]  # end of the last run, full or of new leads alone
    holder: Mapped[str | None] = mapped_column(String(120))
    held_until: Mapped[datetime | None]


class ReportLink(db.Model):
    """The unguessable link to a firm's one-page report of what it sent (the thanks page and the e-mail give it).

    Only a digest of the token is stored, as for API tokens; the link shows the assessment made at
    submission, so later re-scoring by staff never changes what the firm was told. Deleting the
    lead or that assessment deletes the link.
    """

    __tablename__ = "report_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship()
    assessment: Mapped[Assessment] = relationship()


#: Kinds of contact with a firm that staff log.
ACTIVITY_KINDS = ("call", "meeting", "email")


class Activity(db.Model):
    """A call, meeting or e-mail with a lead's firm, logged by staff."""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    happened_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="activities")
    user: Mapped[User | None] = relationship()


class Task(db.Model):
    """A follow-up on a lead, due on a date, for a staff member; done when ``done_at`` is set."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(index=True)
    done_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="tasks")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class SavedView(db.Model):
    """A named set of lead-list filters (the list's query string), saved by one staff member."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
