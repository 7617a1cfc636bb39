"""Facet counts beside the lead list's sector filter: leads per detected sector (main or secondary).

Under other filters the counts are computed for that query; without filters (the first view of
``/leads``, the most frequent) they are a GROUP BY over all of ``lead_sectors``. Either costs
tens of milliseconds at 100,000 leads, so the counts are remembered like the list's total
(:func:`web.listing.remembered`, in the app's state): per app and filter set for ``FACETS_CACHE_SECONDS``
(default 30), with the sectors of leads added since counted on their own (a few rows), and
forgotten at once when this process commits a change to leads or their sectors. Another
process's change or deletion shows within that time.
"""

from __future__ import annotations

from collections import Counter

from flask import current_app
from sqlalchemy import func

from .extensions import db
from .listing import filter_key, remembered
from .models import Lead, LeadSector


def sector_facets(f: dict, filtered_query) -> dict[str, int]:
    """How many leads matching the other filters have each sector among their detected ones.

    ``filtered_query``: the list's query for a dict of filters (:func:`web.leads.filtered_query`).
    """
    others = {key: value for key, value in f.items() if key not in ("sector", "sort", "dir") and value}
    conditions = []
    if others:
        matching = filtered_query({**f, "sector": ""}).order_by(None).with_only_columns(Lead.id)
        conditions.append(LeadSector.lead_id.in_(matching))
    ttl = float(current_app.config.get("FACETS_CACHE_SECONDS", 30))
    if ttl <= 0:
        return _count(*conditions)
    key = ("facets", *filter_key(f, ("sector", "sort", "dir")))
    counts, _when = remembered(
        key,
        ttl,
        lambda: _count(*conditions),
        lambda since, until: _count(*conditions, LeadSector.lead_id > since, LeadSector.lead_id <= until),
        add=lambda old, new: dict(Counter(old) + Counter(new)),
    )
    return dict(counts)


def _query(*conditions):
    return db.select(LeadSector.sector, func.count()).where(*conditions).group_by(LeadSector.sector)


def _count(*conditions) -> dict[str, int]:
    return {sector: count for sector, count in db.session.execute(_query(*conditions))}  # noqa: C416 -- rows
