"""Weights versions: version 1 is the sectors file, every saved set is a new version; admin settings.

The current version decides how leads are scored: :func:`scorer_for` applies its weights to
the sectors file with :func:`matcher.weights.apply_weights` and, for a lead's unverified
commitments, scales their answer sub-scores by the admin's factor (a ``committed`` claim not
verified by staff counts ``factor`` x its points). Configs and fitted scorers are kept by the
app's state (:mod:`web.appstate`, ``scorers``), keyed by sectors file and weights fingerprint.

Scoring requests do not ask the database which version is current: :func:`snapshot` keeps
the current version and the settings in the app's state for ``WEIGHTS_CACHE_SECONDS`` (1 s by
default), so a version saved in one process is used by every other within that time. The
process that saves uses it at once. A request pins one snapshot, so the scorer it uses and the
version it records always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from matcher import Config, ConfigError, Scorer
from matcher.result import default_scorer
from matcher.weights import (
    WeightsFile,
    apply_weights,
    check_setting,
    diff_weights,
    fingerprint,
    scale_answers,
    weights_of,
)

from .appstate import app_state
from .audit import audit
from .extensions import db
from .models import COMMITMENTS, Assessment, Setting, User, WeightsVersion

#: Admin settings with their defaults.
DEFAULTS: dict[str, Any] = {"unverified_factor": 1.0, "spread": 0.2, "top_k": 10, "n_samples": 10_000}


def file_config() -> Config:
    """The checked sectors file of the app (``SECTORS_PATH``): the weights of version 1."""
    return _file_scorer().config_


def _file_scorer() -> Scorer:
    """The fitted scorer of the sectors file itself (the library's, shared by the process's apps)."""
    path = current_app.config.get("SECTORS_PATH")
    path = str(path) if path else None
    return _cached(("file scorer", path), lambda: default_scorer(path))


@dataclass(frozen=True)
class Snapshot:
    """The current weights version and the admin settings, as read at one moment."""

    id: int
    label: str
    fingerprint: str
    weights: dict[str, Any]
    settings: dict[str, Any]


def _read_snapshot() -> Snapshot:
    version = current_version()
    settings = {row.key: row.value for row in db.session.execute(db.select(Setting)).scalars()}
    return Snapshot(version.id, version.label, version.fingerprint, version.weights, settings)


def snapshot() -> Snapshot:
    """The current version and settings: pinned for the request, kept by the app's state for a short time."""
    if "snapshot" in g:
        return g.snapshot
    if g.get("snapshot_private"):  # this request changed them: read its own session, share nothing
        g.snapshot = _read_snapshot()
        return g.snapshot
    g.snapshot = app_state().snapshot.get(_read_snapshot, float(current_app.config.get("WEIGHTS_CACHE_SECONDS", 1.0)))
    return g.snapshot


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    """A version or setting change is committed: drop what other threads kept meanwhile."""
    kept = session.info.pop("matcher.snapshot", None)
    if kept is not None:
        kept.forget_committed()


def invalidate() -> None:
    """Forget the kept snapshot: this request changed the version or a setting (not yet committed).

    Once it commits, the stored ranks are computed again in the background (:mod:`web.ranks`).
    """
    own = app_state()
    own.snapshot.forget()
    # Another thread (a request, the background ranks) may keep the old values again before this
    # request commits: forget them once more after the commit (_forget_after_commit).
    db.session.info["matcher.snapshot"] = own.snapshot
    g.pop("snapshot", None)
    g.pop("scorer", None)
    g.snapshot_private = True
    if own.mark_ranks is not None:  # web.ranks.mark, given by the app factory
        own.mark_ranks()


def get_setting(key: str) -> Any:
    """An admin setting, or its default (also instead of a stored value out of bounds, saved before they were
    checked)."""
    try:
        return check_setting(key, snapshot().settings.get(key, DEFAULTS[key]))
    except ConfigError:
        return DEFAULTS[key]


def set_setting(key: str, value: Any) -> None:
    """Store an admin setting (the caller commits); raises :class:`matcher.ConfigError` if it is out of bounds."""
    value = check_setting(key, value)
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    invalidate()


def ensure_first_version() -> WeightsVersion:
    """Version 1 from the sectors file if there is no version yet; older assessments are marked with it."""
    version = db.session.execute(db.select(WeightsVersion).order_by(WeightsVersion.id).limit(1)).scalar()
    if version is not None:
        return version
    config = file_config()
    version = WeightsVersion(
        label=f"v1 {fingerprint(config)}",
        fingerprint=fingerprint(config),
        weights=weights_of(config),
        reason="sectors.yaml",
        is_current=True,
    )
    db.session.add(version)
    db.session.flush()
    db.session.execute(
        update(Assessment).where(Assessment.weights_version_id.is_(None)).values(weights_version_id=version.id)
    )
    return version


def current_version() -> WeightsVersion:
    """The weights version new scores use (looked up once per request)."""
    if "weights_version" not in g:
        version = db.session.execute(db.select(WeightsVersion).filter_by(is_current=True)).scalar()
        g.weights_version = version or ensure_first_version()
    return g.weights_version


def get_version(version_id: int | None) -> WeightsVersion | None:
    """A version by id, or ``None``."""
    return db.session.get(WeightsVersion, version_id) if version_id else None


def all_versions() -> list[WeightsVersion]:
    """Every version, newest first."""
    current_version()
    return list(db.session.execute(db.select(WeightsVersion).order_by(WeightsVersion.id.desc())).scalars())


def _cached(key: tuple, build):
    """A config, fingerprint or fitted scorer of the app's state (``scorers``), built once per key."""
    return app_state().scorers.get_or_build(key, build)


def config_of(version: WeightsVersion | Snapshot) -> Config:
    """The sectors file with the version's weights applied."""
    base = file_config()
    return _cached(("config", base.path, version.fingerprint), lambda: apply_weights(base, version.weights))


def scaled(config: Config, fields: tuple[str, ...], factor: float) -> Config:
    """``config`` with the answer sub-scores of ``fields`` multiplied by ``factor``."""
    return scale_answers(config, fields, factor)


def export(
    version: WeightsVersion | Snapshot, unverified: tuple[str, ...] = COMMITMENTS, factor: float | None = None
) -> WeightsFile:
    """The version as a weights file: what ``matcher score --weights`` needs to score as the app's batches do."""
    factor = float(get_setting("unverified_factor")) if factor is None else float(factor)
    return WeightsFile(
        dict(version.weights),
        version.label,
        version.fingerprint,
        factor,
        tuple(sorted(unverified)) if factor != 1.0 else (),
    )


def scorer_for(
    version: WeightsVersion | Snapshot | None = None,
    unverified: tuple[str, ...] = COMMITMENTS,
    factor: float | None = None,
) -> Scorer:
    """A fitted scorer for ``version`` (default current) with ``unverified`` commitments scaled by the factor."""
    version = version or snapshot()
    factor = float(get_setting("unverified_factor")) if factor is None else float(factor)
    fields = tuple(sorted(unverified)) if factor != 1.0 else ()
    base = file_config()
    if version.fingerprint == _cached(("fingerprint", base.path), lambda: fingerprint(base)) and not fields:
        return _file_scorer()
    config = config_of(version)
    return _cached(
        ("scorer", base.path, version.fingerprint, fields, factor),
        lambda: Scorer(config=scaled(config, fields, factor) if fields else config).fit(),
    )


def current_scorer() -> Scorer:
    """:func:`scorer_for` the request's snapshot with the default commitments and factor.

    A snapshot is kept for a while and shared by the requests meanwhile (:func:`snapshot`): its
    scorer is kept with it by the app's state (``snapshot_scorer``), so those requests skip the
    settings, the sectors file and the ``scorers`` key. A new snapshot (another version or setting,
    or one read again after its time) is another object and looks its scorer up again.
    """
    current = snapshot()
    state = app_state()
    kept = state.snapshot_scorer
    if kept is not None and kept[0] is current:
        return kept[1]
    scorer = scorer_for(current)
    state.snapshot_scorer = (current, scorer)
    return scorer


def save_version(weights: dict[str, Any], reason: str, user: User | None) -> WeightsVersion:
    """Check ``weights`` (raises :class:`matcher.ConfigError`) and make them the current version."""
    previous = current_version()
    config = apply_weights(file_config(), weights)
    number = (db.session.execute(db.select(db.func.max(WeightsVersion.id))).scalar() or 0) + 1
    version = WeightsVersion(
        label=f"v{number} {fingerprint(config)}",
        fingerprint=fingerprint(config),
        weights=weights_of(config),
        reason=reason.strip(),
        is_current=True,
        author_id=user.id if user else None,
    )
    previous.is_current = False
    db.session.add(version)
    db.session.flush()
    g.weights_version = version
    invalidate()
    audit(
        "weights.save",
        version,
        user,
        label=version.label,
        reason=version.reason,
        changes=len(diff_weights(previous.weights, version.weights)),
    )
    return version


def history() -> list[tuple[WeightsVersion, list]]:
    """Each version (newest first) with its changes against the version before it."""
    versions = all_versions()
    return [
        (v, diff_weights(versions[i + 1].weights, v.weights) if i + 1 < len(versions) else [])
        for i, v in enumerate(versions)
    ]
