"""Finding duplicate leads in the database: by the keys :mod:`web.dedup` keeps on every lead.

Apart from :mod:`web.dedup` (pure functions the models call on every write) so that the models
never import the queries.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, exists, literal_column, or_
from sqlalchemy.orm import aliased

from .dedup import KEY_COLUMNS, Match, reasons
from .extensions import db, one_of, read_rows
from .models import AuditLog, Lead


def _candidates(leads, keys_only: bool = False) -> list:
    """Leads sharing a key with any of ``leads`` (themselves included); ``keys_only``: rows of id and keys."""
    values = {
        key: {getattr(lead, key) for lead in leads} - {None, ""}
        for key in ("name_key", "inn", "ogrn", "web_domain", "mail_domain")
    }
    domains = values["web_domain"] | values["mail_domain"]
    if not domains and not any(values[key] for key in ("name_key", "inn", "ogrn")):
        return []
    if keys_only:  # the same leads: an empty list matches nothing
        keys = {key: sorted(values[key]) for key in ("name_key", "inn", "ogrn")}
        return read_rows(_KEYS_OF_CANDIDATES, {**keys, "domains": sorted(domains)}).all()
    conditions = [getattr(Lead, key).in_(sorted(values[key])) for key in ("name_key", "inn", "ogrn") if values[key]]
    if domains:
        conditions += [Lead.web_domain.in_(sorted(domains)), Lead.mail_domain.in_(sorted(domains))]
    return list(db.session.execute(db.select(Lead).where(or_(*conditions)).order_by(Lead.id)).scalars())


def _keys_of_candidates():
    """:func:`_candidates` as rows of id and keys, built once per process (on every list page): the values
    of each key and the domains are parameters."""
    return db.select(Lead.id, *(getattr(Lead, key) for key in KEY_COLUMNS)).where(
        or_(
            *(one_of(getattr(Lead, key), key) for key in ("name_key", "inn", "ogrn")),
            one_of(Lead.web_domain, "domains"),
            one_of(Lead.mail_domain, "domains"),
        )
    )


_KEYS_OF_CANDIDATES = _keys_of_candidates()


def duplicates_of(lead, limit: int = 20) -> list[Match]:
    """Other leads that look like the same firm as ``lead``, oldest first, with the keys they share."""
    found = [Match(other, reasons(lead, other)) for other in _candidates([lead]) if other.id != lead.id]
    return [m for m in found if m.reasons][:limit]


def duplicate_ids(leads) -> set[int]:
    """The ids among ``leads`` (one page of the list) that share a key with some other lead: one query.

    The same test as :func:`web.dedup.reasons`, by key rather than by pair (a page of 25 leads and its
    25 candidates would be 625 comparisons on every list view).
    """
    leads = list(leads)
    if not leads:
        return set()
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for other in _candidates(leads, keys_only=True):
        for key in _keys(other):
            holders[key].add(other.id)
    return {lead.id for lead in leads if any(holders.get(key, set()) - {lead.id} for key in _keys(lead))}


def shares_a_key():
    """Condition on a :class:`Lead` row: another lead shares one of its keys, the same test as
    :func:`duplicate_ids` (name key, INN, OGRN each alone; a website or e-mail domain as either), in SQL.

    The lead list selects it as a column (:func:`web.listview.select_rows`): for the page's 25 rows,
    an index lookup each in the database, where a statement of its own and the comparison here cost
    0.4 ms of the request's CPU.
    """
    other = aliased(Lead)
    empty = literal_column("''")
    same = [
        and_(getattr(Lead, key) != empty, getattr(other, key) == getattr(Lead, key))
        for key in ("name_key", "inn", "ogrn")
    ]
    same += [
        and_(domain != empty, or_(other.web_domain == domain, other.mail_domain == domain))
        for domain in (Lead.web_domain, Lead.mail_domain)
    ]
    return exists().where(other.id != Lead.id, or_(*same))


def _keys(lead) -> list[tuple[str, str]]:
    """The keys two leads are compared by: name key, INN and OGRN each alone, the two domains together."""
    keys = [(key, getattr(lead, key)) for key in ("name_key", "inn", "ogrn") if getattr(lead, key)]
    return keys + [("domain", d) for d in (lead.web_domain, lead.mail_domain) if d]


def trail_ids(lead) -> list[int]:
    """The lead's id and those of every lead merged into it (and into those), for its audit trail."""
    ids, todo = [lead.id], [lead.id]
    while todo:
        entries = db.session.execute(
            db.select(AuditLog).where(
                AuditLog.object_type == "lead", AuditLog.action == "lead.merge", AuditLog.object_id.in_(todo)
            )
        ).scalars()
        todo = [e.details["merged_id"] for e in entries if e.details.get("merged_id") not in ids]
        ids += todo
    return ids
