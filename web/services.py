"""Units of work shared by views, the API, batch jobs and commands: store leads and results.

``audit`` (recording an action) lives in :mod:`web.audit` and is used from here too.

Functions here add to ``db.session`` and flush when they need ids; the caller (a view, a CLI
command, a batch job) commits once at the end of its unit of work.
"""

from __future__ import annotations

import bisect
import csv
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import bindparam

import matcher
from matcher.batch import result_columns
from matcher.fields import LANGS
from matcher.io.defuse import defuse_cell
from matcher.profile import FIELDS, field_for

from .appstate import app_state
from .audit import acting_user, audit
from .dedup import identifiers_from
from .extensions import db, give_ids
from .models import (
    COMMITMENTS,
    EVIDENCE,
    PROFILE_COLUMNS,
    STATUSES,
    Assessment,
    Evidence,
    Lead,
    LeadSector,
    Note,
    User,
    token_digest,
    utcnow,
)
from .scoring import get_config, get_scorer, weights_version
from .versions import get_setting, scorer_for, snapshot


def clean_profile(data: Mapping[str, Any]) -> dict[str, str]:
    """Contract fields (canonical names) and extra keys as stripped text; empty values dropped."""
    out: dict[str, str] = {}
    for key, value in data.items():
        if value is None or key in ("csrf_token", "submit", "consent"):
            continue
        text = str(value).strip()
        if text:
            out.setdefault(field_for(str(key)) or str(key), text)
    return out


def assess_many(
    profiles: list[Mapping[str, Any]], lang: str = "en"
) -> list[matcher.ScoreResult | matcher.InvalidValue]:
    """Score profiles with the app's scorer; an unreadable profile yields its :class:`matcher.InvalidValue`."""
    return matcher.assess_many([clean_profile(p) for p in profiles], get_scorer(), lang)


def score(profile: Mapping[str, Any], lang: str = "en") -> matcher.ScoreResult:
    """Score one profile with the app's scorer; raises :class:`matcher.InvalidValue`."""
    return matcher.assess(clean_profile(profile), get_scorer(), lang)


def _wording(result: matcher.ScoreResult) -> dict[str, Any]:
    return {"explanation": result.explanation, "advice": {i.field: i.advice for i in result.improvements}}


def wordings(profiles: list[Mapping[str, Any]], results: list, lang: str) -> list[dict[str, Any]]:
    """For each scored profile, its explanation and advice in every language (one batch per language)."""
    out = [{lang: _wording(r)} if isinstance(r, matcher.ScoreResult) else {} for r in results]
    for other in LANGS:
        if other == lang or not any(out):
            continue
        for texts, result in zip(out, assess_many(profiles, other), strict=True):
            if texts and isinstance(result, matcher.ScoreResult):
                texts[other] = _wording(result)
    return out


def assessment_from(
    result: matcher.ScoreResult, texts: dict[str, Any] | None = None, scored_with: Any = None
) -> Assessment:
    """A new Assessment row holding exactly the numbers of ``result`` (and its wording in other languages).

    ``scored_with`` (a batch job: ``weights_version``, ``weights_version_id``, ``unverified_factor``) names
    the weights that produced ``result``; by default the current version and factor did.
    """
    data = result.to_dict()
    if scored_with is not None:
        version = {
            "weights_version": scored_with.weights_version,
            "weights_version_id": scored_with.weights_version_id,
            "unverified_factor": scored_with.unverified_factor,
        }
    else:
        version = {
            "weights_version": weights_version(),
            "weights_version_id": snapshot().id,
            "unverified_factor": float(get_setting("unverified_factor")),
        }
    return Assessment(
        texts=texts or {result.lang: _wording(result)},
        score=result.score,
        band=result.band,
        sector=result.sector,
        contributions=data["contributions"],
        matched_sectors=data["sectors"],
        completeness=result.completeness,
        missing=list(result.missing),
        improvements=data["improvements"],
        explanation=result.explanation,
        lang=result.lang,
        **version,
        sector_confidence=result.sector_confidence,
        okved_suggested=data["okved_suggested"],
    )


def record_result(
    lead: Lead,
    result: matcher.ScoreResult,
    texts: dict[str, Any] | None = None,
    scored_with: Any = None,
    sectors: bool = True,
) -> Assessment:
    """Add ``result`` to the lead's score history and make it the lead's current score.

    ``sectors=False`` leaves the lead's ``lead_sectors`` rows to the caller: new leads get theirs
    in one INSERT after the flush (:func:`insert_sectors`), far cheaper than an ORM row each.
    """
    assessment = assessment_from(result, texts, scored_with)
    lead.assessments.insert(0, assessment)
    lead.score, lead.band, lead.sector = result.score, result.band, result.sector
    lead.completeness = result.completeness
    if sectors:
        sync_sectors(lead, result.sectors)
    return assessment


def insert_sectors(scored: Iterable[tuple[Lead, matcher.ScoreResult]]) -> None:
    """The ``lead_sectors`` rows of new, flushed leads (with ids) in one INSERT."""
    rows = [
        {"lead_id": lead.id, "sector": sector, "share": share, "main": main}
        for lead, result in scored
        for sector, (share, main) in detected_sectors(result.sectors).items()
    ]
    if rows:
        db.session.execute(db.insert(LeadSector), rows)


def detected_sectors(sectors: Iterable[Mapping[str, Any]]) -> dict[str, tuple[float | None, bool]]:
    """``{sector id: (share or None, is main)}`` from a result's ``sectors`` list (main first; repeats dropped).

    ``share`` is read defensively: a result from before shares were computed has none.
    """
    out: dict[str, tuple[float | None, bool]] = {}
    for item in sectors or ():
        sector = item.get("sector")
        if sector and sector not in out:
            share = item.get("share")
            out[sector] = (float(share) if isinstance(share, int | float) else None, not out)
    return out


def sync_sectors(lead: Lead, sectors: Iterable[Mapping[str, Any]]) -> None:
    """Make the lead's ``lead_sectors`` rows those of ``sectors``: rows kept are updated in place, others go."""
    wanted = detected_sectors(sectors)
    existing = {row.sector: row for row in lead.sector_rows}
    for sector, row in existing.items():
        if sector not in wanted:
            lead.sector_rows.remove(row)
    for sector, (share, main) in wanted.items():
        row = existing.get(sector)
        if row is None:
            lead.sector_rows.append(LeadSector(sector=sector, share=share, main=main))
        else:
            row.share, row.main = share, main


def create_lead(
    profile: Mapping[str, Any],
    result: matcher.ScoreResult,
    source: str,
    consent: bool = False,
    user: User | None = None,
    texts: dict[str, Any] | None = None,
) -> Lead:
    """Store a profile and its result as a new lead (status ``new``) and audit it."""
    if texts is None:
        texts = wordings([profile], [result], result.lang)[0]
    lead = new_lead(profile, result, source, consent, texts)
    db.session.add(lead)
    db.session.flush()
    insert_sectors([(lead, result)])
    audit("lead.create", lead, user, source=source, score=result.score)
    mark_ranks()  # ranked on its own in the background once stored
    return lead


def new_lead(
    profile: Mapping[str, Any],
    result: matcher.ScoreResult,
    source: str,
    consent: bool,
    texts: dict[str, Any],
    scored_with: Any = None,
) -> Lead:
    """A new Lead (status ``new``) holding a profile and its result, not added to the session.

    Its ``lead_sectors`` rows are not made here: after the flush, call :func:`insert_sectors`.
    """
    profile = clean_profile(profile)
    columns = {f: profile.get(f) for f in PROFILE_COLUMNS}
    extras = {k: v for k, v in profile.items() if k not in FIELDS}
    lead = Lead(
        ext_id=profile.get("id"),
        extras=extras,
        consent=consent,
        source=source,
        status="new",
        **columns,
        **identifiers_from(extras),
    )
    record_result(lead, result, texts, scored_with, sectors=False)  # the caller inserts them once the lead has its id
    return lead


def create_leads(
    profiles: list[Mapping[str, Any]], source: str, lang: str = "en", user: User | None = None
) -> tuple[int, int]:
    """Score many profiles at once and store the scorable ones as leads; returns (stored, skipped)."""
    results = assess_many(profiles, lang)
    stored = 0
    for profile, result, texts in zip(profiles, results, wordings(profiles, results, lang), strict=True):
        if isinstance(result, matcher.ScoreResult):
            create_lead(profile, result, source, user=user, texts=texts)
            stored += 1
    return stored, len(profiles) - stored


def stored_results(job: Any, rows: list[Mapping[str, Any]]) -> list[tuple[dict, matcher.ScoreResult, dict]]:
    """(profile, result, wording in every language) of rows of a job's results file, as the job scored them.

    The numbers are the job's own (:mod:`matcher.stored`); the scorer of the job's weights version
    and factor only words them.
    """
    from flask import current_app

    from matcher.stored import kept_headers, results_from

    from .versions import get_version

    if not rows:
        return []
    scorer = scorer_for(get_version(job.weights_version_id), factor=job.unverified_factor)
    # the job's folder as web.jobs.job_dir names it (this module sits below web.jobs)
    headers = kept_headers(Path(current_app.config["BATCH_DIR"]) / str(job.id) / "results.arrow")
    return list(results_from(scorer, list(rows), headers, job.lang))


def import_rows(
    job: Any, start: int, rows: list[Mapping[str, str] | str | None], user: User | None = None
) -> Counter | None:
    """Store one chunk of a batch job's input rows as leads and move the job's import cursor past it.

    ``rows`` are the input records from number ``start`` on (:func:`web.imports.scored_rows`): a
    row of the job's results file (stored as the job scored it: no scoring here), why the record
    was not scored, or None for a blank line. One conditional UPDATE moves the cursor
    (``imported_rows`` from ``start``), which also locks the job's row, and the leads are added in
    the same transaction, each with the job's weights version. The caller commits once: an error
    or a crash before that stores nothing of the chunk, and another import that moved the cursor
    first makes this one store nothing and return None. Returns the counts: ``leads`` stored, and
    each reason a row was skipped.
    """
    from sqlalchemy import update

    from .models import BatchJob

    scored = stored_results(job, [row for row in rows if isinstance(row, Mapping)])
    counts = Counter(leads=len(scored))
    counts.update(row for row in rows if isinstance(row, str))
    cursor = update(BatchJob).where(
        BatchJob.id == job.id, BatchJob.imported_rows == start, BatchJob.import_state == "running"
    )
    moved = cursor.values(
        imported_rows=start + len(rows), imported=BatchJob.imported + counts["leads"], heartbeat_at=utcnow()
    )
    if db.session.execute(moved, execution_options={"synchronize_session": False}).rowcount != 1:
        return None
    leads = [new_lead(p, r, "batch", False, t, job) for p, r, t in scored]
    give_ids(leads)
    give_ids([lead.assessments[0] for lead in leads])
    db.session.add_all(leads)
    db.session.flush()
    insert_sectors((lead, result) for lead, (_p, result, _t) in zip(leads, scored, strict=True))
    give_ids(
        [
            audit("lead.create", lead, user, source="batch", score=result.score)
            for lead, (_p, result, _t) in zip(leads, scored, strict=True)
        ]
    )
    mark_ranks()
    return counts


def set_status(lead: Lead, status: str) -> bool:
    """Move a lead in the pipeline; returns whether anything changed."""
    if status not in STATUSES or status == lead.status:
        return False
    audit("lead.status", lead, old=lead.status, new=status)
    lead.status = status
    return True


def assign(lead: Lead, user: User | None) -> bool:
    """Assign a lead to a staff member (or nobody); returns whether anything changed."""
    new_id = user.id if user else None
    if new_id == lead.assigned_to_id:
        return False
    audit(
        "lead.assign",
        lead,
        old=lead.assigned_to.username if lead.assigned_to else None,
        new=user.username if user else None,
    )
    lead.assigned_to = user
    return True


def add_note(lead: Lead, body: str) -> Note:
    """Add a staff note to a lead."""
    user = acting_user()
    note = Note(lead=lead, author_id=user.id if user else None, body=body.strip())
    db.session.add(note)
    audit("note.add", lead, length=len(note.body))
    return note


def create_user(email: str, username: str, password: str, role: str = "analyst") -> User:
    """A new staff account with a hashed password."""
    user = User(email=email.strip().lower(), username=username.strip(), role=role)
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    audit("user.create", user, role=role)
    return user


def issue_token(user: User) -> str:
    """A new API token for ``user`` (only its digest is stored; show the token once)."""
    token = secrets.token_urlsafe(32)
    user.api_token_hash = token_digest(token)
    audit("user.token", user)
    return token


def user_for_token(token: str) -> User | None:
    """The active user holding an API token."""
    user = db.session.execute(_TOKEN_USER, {"token_hash": token_digest(token)}).scalar_one_or_none()
    return user if user and user.active else None


_TOKEN_USER = db.select(User).where(User.api_token_hash == bindparam("token_hash"))  # built once per process


def export_header() -> list[str]:
    """Columns of a lead export: the contract fields, then what ``matcher score`` adds.

    A field named like a result column gets ``_input``, as ``matcher score`` names it (the firm's
    declared ``sectors`` beside the detected ``sectors``).
    """
    results = result_columns(get_config())
    return [*(f"{f}_input" if f in results else f for f in FIELDS), *results]


def export_rows(leads: Iterable[Lead]) -> Iterator[list[str]]:
    """One defused CSV row per lead, from its stored latest assessment; ranks by stored score."""
    leads = list(leads)
    scores = sorted(lead.score or 0.0 for lead in leads)
    criteria = [c.id for c in get_config().criteria]
    for lead in leads:
        latest = lead.latest
        profile = {"id": lead.ext_id, **{f: getattr(lead, f) for f in PROFILE_COLUMNS}}
        row = [profile.get(f) or "" for f in FIELDS]
        if latest is None:
            yield [defuse_cell(str(v)) for v in row + [""] * (len(export_header()) - len(row))]
            continue
        points = {c["criterion"]: c["points"] for c in latest.contributions}
        top = latest.improvements[0] if latest.improvements else None
        rank = 1 + len(scores) - bisect.bisect_right(scores, lead.score or 0.0)
        row += [
            f"{latest.score:.1f}",
            str(rank),
            latest.band,
            latest.sector or "",
            *[f"{points.get(c, 0.0):.1f}" for c in criteria],
            f"{latest.completeness:g}",
            ";".join(latest.missing),
            latest.explanation,
            f"{top['advice']}: +{top['gain']:.1f}" if top else "",
            _shares_cell(latest.matched_sectors),
            "" if latest.sector_confidence is None else f"{round(latest.sector_confidence, 2):g}",
            ";".join(s["code"] for s in latest.okved_suggested or []),
        ]  # as `matcher score` writes it
        yield [defuse_cell(str(v)) for v in row]


def _shares_cell(sectors: list[dict] | None) -> str:
    """The ``sectors`` column of one assessment: ``id:share;…`` (an assessment made before shares: ids)."""
    return ";".join(
        f"{s['sector']}:{s['share']:.2f}" if s.get("share") is not None else s["sector"] for s in sectors or []
    )


def write_csv(handle, rows: Iterable[list[str]]) -> None:
    """Write rows to a text handle as CSV."""
    csv.writer(handle).writerows(rows)


def set_evidence(lead: Lead, field: str, status: str, note: str, user: User | None = None) -> bool:
    """Record how a commitment of the lead is backed, with the staff member's note; audited."""
    if field not in COMMITMENTS or status not in EVIDENCE:
        raise ValueError(f"evidence: unknown commitment {field!r} or status {status!r}")
    user = user or acting_user()
    row = next((e for e in lead.evidence if e.field == field), None)
    old = row.status if row else "declared"
    if row is None:
        row = Evidence(field=field, status=status, note=note.strip(), user_id=user.id if user else None)
        lead.evidence.append(row)
    else:
        row.status, row.note, row.user_id = status, note.strip(), user.id if user else None
    lead.updated_at = utcnow()
    if lead.rank is not None:  # its sub-scores change with the evidence: ranked again in the background
        db.session.delete(lead.rank)
        mark_ranks()
    audit("lead.evidence", lead, user, field=field, old=old, new=status, note=note.strip())
    return old != status


def _score_group(leads: list[Lead], unverified: tuple[str, ...], lang: str) -> list[tuple]:
    """(lead, result, texts in every language) for leads sharing the same unverified commitments."""
    profiles = [clean_profile(lead.profile()) for lead in leads]
    scorer = scorer_for(unverified=unverified)
    results = matcher.assess_many(profiles, scorer, lang)
    texts = [{lang: _wording(r)} if isinstance(r, matcher.ScoreResult) else {} for r in results]
    for other in (x for x in LANGS if x != lang):  # the same numbers worded in every language
        for entry, result in zip(texts, matcher.assess_many(profiles, scorer, other), strict=True):
            if entry and isinstance(result, matcher.ScoreResult):
                entry[other] = _wording(result)
    return [row for row in zip(leads, results, texts, strict=True) if isinstance(row[1], matcher.ScoreResult)]


def rescore(leads: list[Lead], lang: str = "en") -> list[dict[str, Any]]:
    """Score leads again under the current weights version (and factor for unverified claims).

    Leads are grouped by which commitments are unverified, each group scored in one batch.
    Returns one row per lead, best first: lead, old and new score, delta, old and new rank.
    """
    groups: dict[tuple[str, ...], list[Lead]] = {}
    for lead in leads:
        groups.setdefault(lead.unverified(), []).append(lead)
    changes = []
    for unverified, group in groups.items():
        for lead, result, texts in _score_group(group, unverified, lang):
            old = lead.score
            record_result(lead, result, texts)
            delta = result.score - (old or 0.0)
            changes.append(
                {
                    "lead": lead,
                    "old": old,
                    "new": result.score,
                    "delta": delta,
                    "changed": old is None or abs(delta) >= 0.05,
                }
            )
    _add_ranks(changes)
    return sorted(changes, key=lambda c: (c["new_rank"], c["lead"].id))


def mark_ranks() -> None:
    """Ask for the stored ranks to be computed again once this request commits (:func:`web.ranks.mark`).

    Through the hook the app factory gives the app's state: this module sits below :mod:`web.ranks`,
    which ranks leads with the units of work here.
    """
    mark = app_state().mark_ranks
    if mark is not None:
        mark()


def _add_ranks(changes: list[dict[str, Any]]) -> None:
    """Each row's rank among the re-scored leads before and after (1 = best, ties share)."""
    from matcher.compare import rank_desc

    if changes:
        old = rank_desc([c["old"] if c["old"] is not None else -1.0 for c in changes])
        new = rank_desc([c["new"] for c in changes])
        for row, before, after in zip(changes, old, new, strict=True):
            row.update(old_rank=int(before), new_rank=int(after))
