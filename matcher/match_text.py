"""Words for matches and incentive categories, in English, Russian and Vietnamese.

Labels of opportunities, components and rules live in the YAML files; the sentence frames
that hold them live here. :func:`reason_column` words the reasons of a whole batch with
Arrow (no Python loop per firm); the other helpers word one condition or one gap.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from ._datafile import label
from .catalogues import tables
from .explain import tenths_text
from .fields import LANGS
from .messages import FIELD_LABELS, format_number, message
from .opportunities import ASKS, COMPONENTS, Catalogue

#: Frames of match reasons, per language (from the catalogues of :mod:`matcher.catalogues`).
PHRASES: dict[str, dict[str, str]] = tables("PHRASES", LANGS)

#: Bits of the ``missing`` mask of a match: which unknown answers it would have used.
MISSING_FIELDS = ("sectors", "investment_usd", *ASKS, "vietnam_presence")


def phrase(lang: str, key: str, **values: object) -> str:
    """The frame ``key`` in ``lang`` (English when unknown), filled in."""
    return (PHRASES.get(lang, {}).get(key) or PHRASES["en"][key]).format(**values)


def vnd_text(vnd: float, usd_vnd: float, lang: str) -> str:
    """``VND 6,000 bn (about US$230.8 m)`` in the reader's language."""
    return phrase(lang, "vnd", bn=format_number(vnd / 1e9, lang), usd=format_number(vnd / usd_vnd / 1e6, lang, 1))


def missing_clause(mask: int, lang: str) -> str:
    """The "; missing: …" clause for a mask of :data:`MISSING_FIELDS` bits ("" when none)."""
    labels = FIELD_LABELS[lang if lang in FIELD_LABELS else "en"]
    names = [
        labels[f] if f != "sectors" else message(lang, "field_sector")
        for bit, f in enumerate(MISSING_FIELDS)
        if mask >> bit & 1
    ]
    return "; " + message(lang, "missing", items=", ".join(names)) if names else ""


def missing_masks(catalogue: Catalogue, table, firms, index: NDArray[np.int64]) -> NDArray[np.int64]:
    """(n, k) masks of the unknown answers each match would have used (0 for an empty slot)."""
    mask = np.zeros(index.shape, dtype=np.int64)
    if table.m == 0:
        return mask
    safe = np.maximum(index, 0)
    mask |= (~firms.sector_known)[:, None].astype(np.int64)
    mask |= (np.isnan(firms.investment_usd)[:, None] & ~np.isnan(table.capital_min[safe])) << 1
    for b, field in enumerate(ASKS):
        asked = table.asks[b][safe] > 0
        if field == "local_partner":
            asked |= table.weights[COMPONENTS.index("partner")][safe] > 0
        mask |= ((firms.commitments[field] < 0)[:, None] & asked).astype(np.int64) << (2 + b)
    mask |= (firms.presence < 0)[:, None].astype(np.int64) << (2 + len(ASKS))
    return np.where(index >= 0, mask, 0)


def reason_column(
    catalogue: Catalogue,
    table,
    index: NDArray[np.int64],
    score: NDArray[np.int64],
    contributions: NDArray[np.int64],
    masks: NDArray[np.int64],
    lang: str,
) -> pa.Array:
    """One reason per firm for one rank: ``Hoa Lac Hi-Tech Park — 87.5: sector fit +55.0, …; missing: …``.

    ``index``, ``score`` and ``masks`` are (n,) and ``contributions`` (n, n_components), for one
    column of :class:`~matcher.match.TopMatches`; a firm without a match there gets "".
    """
    names = pa.array([label(o.name, lang) for o in table.opportunities] + [""], pa.string())
    name = names.take(pa.array(np.where(index >= 0, index, table.m)))
    labels = catalogue.settings.labels
    pieces = []  # each ", label +points" or "" (Arrow's join skipping nulls drops an all-null column)
    for c, comp in enumerate(COMPONENTS):
        text = pc.binary_join_element_wise(", " + label(labels[comp], lang), tenths_text(contributions[:, c]), " +")
        pieces.append(pc.if_else(pa.array(contributions[:, c] > 0), text, ""))
    parts = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*pieces, ""), 2)
    parts = pc.if_else(pc.equal(pc.utf8_length(parts), 0), phrase(lang, "none"), parts)
    distinct, where = np.unique(masks, return_inverse=True)
    clauses = pa.array([missing_clause(int(m), lang) for m in distinct], pa.string()).take(pa.array(where.ravel()))
    joined = pc.binary_join_element_wise(name, " — ", tenths_text(score), ": ", parts, clauses, "")
    return pc.if_else(pa.array(index >= 0), joined, "")
