"""Turn the model's numbers into the output columns and the plain-language explanation.

Nothing here computes a score: it formats :class:`~matcher.scoring.BatchScores`.
Batch rendering works on whole columns (lookup tables indexed with numpy, strings joined
by Arrow), so a million rows cost no Python loop per row; :func:`explain_row` words one
profile from the same tables and frames, for small batches.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from .fields import LANGUAGES
from .frame import ProfileFrame
from .messages import FIELD_LABELS, format_number, message
from .scoring import BatchScores, Candidate, RowScores, Scorer
from .sectors import SOURCE_CODE, SOURCE_DECLARED, SOURCE_DEFAULT, SOURCE_TEXT, RowDetection

_TENTHS = pa.array([f"{i // 10}.{i % 10}" for i in range(1001)], pa.string())  # "0.0" ... "100.0"


def tenths_text(tenths: NDArray[np.int64]) -> pa.Array:
    """Format tenths of a point as text with one decimal: 625 -> "62.5"."""
    tenths = np.asarray(tenths, dtype=np.int64)
    if len(tenths) and 0 <= tenths.min() and tenths.max() <= 1000:
        return _TENTHS.take(pa.array(tenths))  # every score and point value: one lookup
    whole = pa.array(np.abs(tenths) // 10).cast(pa.string())
    frac = pa.array(np.abs(tenths) % 10).cast(pa.string())
    text = pc.binary_join_element_wise(whole, frac, ".")
    if (tenths < 0).any():
        text = pc.if_else(pa.array(tenths < 0), pc.binary_join_element_wise("-", text, ""), text)
    return text


def tenths_str(tenths: int) -> str:
    """:func:`tenths_text` for one number: 625 -> "62.5", -5 -> "-0.5"."""
    return f"{'-' if tenths < 0 else ''}{abs(tenths) // 10}.{abs(tenths) % 10}"


_HUNDREDTHS = pa.array(np.arange(101) / 100).cast(pa.string())  # "0", "0.01", ..., "0.5", ..., "1"


def hundredths_text(values: NDArray[np.float64]) -> pa.Array:
    """``np.round(values, 2)`` as Arrow writes it ("0.57", "0.5", "1"); a share of 0..1 is one lookup.

    ``np.round`` gives ``rint(x * 100) / 100``, the very float of the table's ``k / 100``.
    """
    values = np.asarray(values, dtype=np.float64)
    cents = np.rint(values * 100)
    if len(values) and np.isfinite(cents).all() and 0 <= values.min() and cents.max() <= 100:  # no -0
        return _HUNDREDTHS.take(pa.array(cents.astype(np.int64)))
    return pa.array(np.round(values, 2)).cast(pa.string())


#: Languages whose texts write a decimal comma: "71,7 из 100", "+16,0" (the numeric CSV columns keep the dot).
DECIMAL_COMMA = tuple(lang.code for lang in LANGUAGES if lang.decimal == ",")


def text_numbers(numbers: pa.Array, lang: str) -> pa.Array:
    """Numbers of :func:`tenths_text` as a sentence in ``lang`` writes them: "71.7" -> "71,7" in ru and vi."""
    return pc.replace_substring(numbers, ".", ",") if lang in DECIMAL_COMMA else numbers


def text_number(tenths: int, lang: str) -> str:
    """:func:`text_numbers` for one number of tenths: 717 -> "71,7" in ru and vi, "71.7" in en."""
    text = tenths_str(tenths)
    return text.replace(".", ",") if lang in DECIMAL_COMMA else text


def advice_text(cand: Candidate, lang: str) -> str:
    """What the firm could do, e.g. "commit to training local staff"."""
    template = cand.advice.get(lang) or cand.advice.get("en") or cand.field
    if isinstance(cand.target, float):
        return template.format(value=format_number(cand.target, lang))
    return template


_ADVICE: dict[tuple[int, str], tuple[Scorer, list[str]]] = {}


def advice_texts(scorer: Scorer, lang: str) -> list[str]:
    """:func:`advice_text` of every candidate of a fitted scorer, built once per scorer and language."""
    cached = _ADVICE.get((id(scorer), lang))
    if cached is None or cached[0] is not scorer:
        if len(_ADVICE) > 256:
            _ADVICE.clear()
        cached = _ADVICE[(id(scorer), lang)] = (scorer, [advice_text(c, lang) for c in scorer.candidates_])
    return cached[1]


def _take(table: list[str], index: NDArray[np.int64]) -> pa.Array:
    return pa.array(table, pa.string()).take(pa.array(index))


def missing_fields(scorer: Scorer, missing_row: NDArray[np.bool_]) -> list[str]:
    """The contract fields behind the unknown inputs of one row."""
    fields = []
    for flag, (_, item) in zip(missing_row, scorer.inputs_, strict=False):
        if flag:
            fields.extend(["description", "okved"] if item.field == "sector" else [item.field])
    return fields


def _missing_columns(scorer: Scorer, scores: BatchScores, lang: str) -> tuple[pa.Array, pa.Array]:
    """The ``missing`` column (field names) and the missing clause, via one lookup per distinct mask."""
    bits = (scores.missing.astype(np.int64) << np.arange(scores.missing.shape[1])).sum(axis=1)
    masks, index = np.unique(bits, return_inverse=True)
    names, clauses = [], []
    for mask in masks:
        row = (int(mask) >> np.arange(scores.missing.shape[1])) & 1
        fields = missing_fields(scorer, row.astype(bool))
        names.append(";".join(fields))
        clauses.append(missing_clause(fields, lang))
    return _take(names, index), _take(clauses, index)


def missing_clause(fields: list[str], lang: str) -> str:
    """The explanation's "; missing: ..." clause for the fields :func:`missing_fields` lists ("" if none)."""
    shown = [
        message(lang, "field_sector") if f == "description" else FIELD_LABELS[lang][f] for f in fields if f != "okved"
    ]
    return "; " + message(lang, "missing", items=", ".join(shown)) if shown else ""


_SOURCES = (SOURCE_CODE, SOURCE_DECLARED, SOURCE_TEXT, SOURCE_DEFAULT)  # 1..4, in this order
_TABLES: dict[tuple[int, str], tuple] = {}


def _sector_tables(config, lang: str) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Text before and after the evidence for each (sector, source), then "unknown"; built once."""
    return _sector_phrases(config, lang)[1]


def _sector_phrases(config, lang: str) -> tuple[tuple[list[str], list[str]], tuple[pa.Array, pa.Array, pa.Array]]:
    """The sector tables as lists (before, after) and as Arrow arrays (ids, before, after); built once."""
    cached = _TABLES.get((id(config), lang))
    if cached is not None and cached[0] is config:
        return cached[1:]
    how = [
        message(lang, "from_code", evidence="\x00"),
        message(lang, "from_declared"),
        message(lang, "from_text", evidence="\x00"),
        message(lang, "from_default"),
    ]
    before, after = [], []
    for s in config.sectors:
        label = s.label.get(lang, s.label["en"])
        tier = config.tiers[s.tier]["label"].get(lang, "")
        for phrase in how:
            head, _, tail = message(lang, "sector", sector=label, tier=tier, how=phrase).partition("\x00")
            before.append(head)
            after.append(tail)
    before.append(message(lang, "sector_unknown"))
    after.append("")
    ids = pa.array([s.id for s in config.sectors] + [""], pa.string())
    arrays = (ids, pa.array(before, pa.string()), pa.array(after, pa.string()))
    _TABLES[(id(config), lang)] = (config, (before, after), arrays)
    return _TABLES[(id(config), lang)][1:]


def _sector_combo(n_sectors: int, sector: int, source: int) -> int:
    """Index into the sector tables: (sector, source), or the last entry ("unknown")."""
    if sector >= 0 and _SOURCES[0] <= source <= _SOURCES[-1]:
        return sector * len(_SOURCES) + source - _SOURCES[0]
    return n_sectors * len(_SOURCES)


def _sector_columns(scorer: Scorer, frame: ProfileFrame, lang: str) -> tuple[pa.Array, pa.Array]:
    """The ``sector`` id column and the sector clause (label, tier and evidence)."""
    config, det = scorer.config_, frame.detection
    ids, before, after = _sector_tables(config, lang)
    n_sectors = len(config.sectors)
    known = (det.sector >= 0) & (det.source >= _SOURCES[0]) & (det.source <= _SOURCES[-1])
    combo = np.where(known, det.sector * len(_SOURCES) + det.source - _SOURCES[0], n_sectors * len(_SOURCES))
    with_evidence = pa.array((det.source == SOURCE_CODE) | (det.source == SOURCE_TEXT))
    evidence = pc.if_else(with_evidence, det.evidence, "")
    clause = pc.binary_join_element_wise(before.take(pa.array(combo)), evidence, after.take(pa.array(combo)), "")
    return ids.take(pa.array(np.where(det.sector >= 0, det.sector, n_sectors))), clause


def _strongest(scorer: Scorer, scores: BatchScores, lang: str) -> pa.Array:
    """The clause naming the two largest contributions: "strongest: sector fit +30.0, ..."."""
    labels = [c.label.get(lang, c.label["en"]) for c in scorer.config_.criteria]
    order = np.argsort(-scores.contributions, axis=1, kind="stable")[:, :2]
    items, shown = [], []
    for k in range(order.shape[1]):
        pts = np.take_along_axis(scores.contributions, order[:, k : k + 1], axis=1).ravel()
        item = pc.binary_join_element_wise(_take(labels, order[:, k]), text_numbers(tenths_text(pts), lang), " +")
        items.append(pc.if_else(pa.array(pts > 0), item, ""))
        shown.append(pts > 0)
    if len(items) == 2:
        sep = pc.if_else(pa.array(shown[0] & shown[1]), ", ", "")
        joined = pc.binary_join_element_wise(items[0], sep, items[1], "")
    else:
        joined = items[0]
    head = message(lang, "strongest", items="\x00").split("\x00")
    text = pc.binary_join_element_wise("; " + head[0], joined, head[1], "")
    return pc.if_else(pa.array(shown[0]), text, "")


def _improvements(scores: BatchScores, lang: str) -> tuple[pa.Array, pa.Array]:
    """The ``top_improvement`` column ("advice: +gain") and the explanation's improvement clause."""
    n = len(scores.score)
    if not scores.candidates:
        return pa.array([""] * n, pa.string()), pa.array(["; " + message(lang, "nothing_to_improve")] * n)
    best = np.argmax(scores.gains, axis=1)
    gain_values = scores.gains[np.arange(n), best]
    advice = _take([advice_text(c, lang) for c in scores.candidates], best)
    gain = text_numbers(tenths_text(gain_values), lang)
    has = pa.array(gain_values > 0)
    column = pc.if_else(has, pc.binary_join_element_wise(advice, gain, ": +"), "")
    frame = message(lang, "improve", advice="\x00", gain="\x00").split("\x00")
    clause = pc.binary_join_element_wise("; " + frame[0], advice, frame[1], gain, frame[2], "")
    return column, pc.if_else(has, clause, "; " + message(lang, "nothing_to_improve"))


def render_batch(scorer: Scorer, frame: ProfileFrame, scores: BatchScores, lang: str = "en") -> dict[str, pa.Array]:
    """The result columns of the CSV data contract (README; all but ``rank``) for every row of the batch.

    Returns a mapping column name -> Arrow array, in output order: ``score``, ``band``,
    ``sector``, ``c_<criterion>``..., ``completeness``, ``missing``, ``explanation``,
    ``top_improvement``, ``sectors``, ``sector_confidence``, ``okved_suggested``.
    """
    config = scorer.config_
    worded = worded_columns(scorer, frame, scores, lang)
    out: dict[str, pa.Array] = {"score": tenths_text(scores.score)}
    out["band"] = _take([b.name for b in config.bands], scores.band)
    out["sector"] = worded["sector"]
    for j, criterion in enumerate(config.criteria):
        out[f"c_{criterion.id}"] = tenths_text(scores.contributions[:, j])
    out["completeness"] = hundredths_text(scores.completeness)
    out.update(worded)  # sector (again, in place), missing, explanation, top_improvement
    out["sectors"] = shares_column(config, frame.detection)
    out["sector_confidence"] = hundredths_text(frame.detection.confidence)
    out["okved_suggested"] = scorer.detector_.suggest_okved(frame.detection)
    return out


def worded_columns(scorer: Scorer, frame: ProfileFrame, scores: BatchScores, lang: str = "en") -> dict[str, pa.Array]:
    """The columns worded in ``lang``: ``sector``, ``missing``, ``explanation``, ``top_improvement``
    (what another language needs of :func:`render_batch`, without its language-free columns).

    Apart from the sector clause, a row's words follow from a few numbers (band and score; the two
    largest contributions; the missing inputs; the best improvement and its gain), which most
    rows share with others: they are worded once per distinct combination and spread to the rows.
    """
    config = scorer.config_
    out: dict[str, pa.Array] = {}
    out["sector"], sector_clause = _sector_columns(scorer, frame, lang)
    heads, head_of = _distinct(scores, scores.band, scores.score)
    band_heads = [
        message(lang, "head", score="\x00", band=b.name, band_label=b.label.get(lang, b.label["en"])).split("\x00")
        for b in config.bands
    ]
    before, after = _take([h[0] for h in band_heads], heads.band), _take([h[1] for h in band_heads], heads.band)
    head = head_of(pc.binary_join_element_wise(before, text_numbers(tenths_text(heads.score), lang), after, ""))
    rest, rest_of = _distinct(scores, *_worded_numbers(scores))
    missing, missing_clause = _missing_columns(scorer, rest, lang)
    improvement, improve_clause = _improvements(rest, lang)
    clauses = pc.binary_join_element_wise(_strongest(scorer, rest, lang), missing_clause, improve_clause, "")
    out["missing"] = rest_of(missing)
    out["explanation"] = pc.binary_join_element_wise(head, "; ", sector_clause, rest_of(clauses), "")
    out["top_improvement"] = rest_of(improvement)
    return out


def _worded_numbers(scores: BatchScores) -> list[NDArray[np.int64]]:
    """What the strongest, missing and improvement clauses of a row are worded from, as integer columns."""
    parts = []
    if scores.contributions.shape[1]:  # the two largest contributions (a point value <= 0 is not shown)
        order = np.argsort(-scores.contributions, axis=1, kind="stable")[:, :2]
        points = np.take_along_axis(scores.contributions, order, axis=1)
        parts += [order[:, k] for k in range(order.shape[1])] + [
            np.maximum(points[:, k], 0) for k in range(order.shape[1])
        ]
    for j in range(scores.missing.shape[1]):
        parts.append(scores.missing[:, j].astype(np.int64))
    if scores.candidates:  # the best improvement and its gain (none when the gain is <= 0)
        best = np.argmax(scores.gains, axis=1)
        gain = scores.gains[np.arange(len(best)), best]
        parts += [np.where(gain > 0, best, 0), np.maximum(gain, 0)]
    return parts


def _distinct(scores: BatchScores, *parts: NDArray[np.int64]) -> tuple[BatchScores, Callable[[pa.Array], pa.Array]]:
    """One row of ``scores`` per distinct combination of the integer columns ``parts``, and the function
    that spreads a column computed for those rows back to every row (all rows, spread as they are,
    when the combinations do not fit one 63-bit key)."""
    n = len(scores.score)
    key, bits = np.zeros(n, dtype=np.int64), 0
    for part in parts:
        low = int(part.min()) if n else 0
        width = (int(part.max()) - low).bit_length() if n else 0
        bits += width
        if bits > 62:
            return scores, lambda column: column
        key = (key << width) | (part - low)
    if bits <= 16:  # a small range of keys: numbered by a table, no sort
        seen = np.zeros(1 << bits, dtype=bool)
        seen[key] = True
        inverse = (np.cumsum(seen) - 1)[key]
        count = int(inverse.max()) + 1 if n else 0
    else:
        distinct, inverse = np.unique(key, return_inverse=True)
        inverse, count = inverse.ravel(), len(distinct)
    if count == n:
        return scores, lambda column: column
    first = np.empty(count, dtype=np.int64)
    first[inverse] = np.arange(n)  # any row of a combination words it
    index = pa.array(inverse)
    return _rows(scores, first), lambda column: column.take(index)


def _rows(scores: BatchScores, rows: NDArray[np.int64]) -> BatchScores:
    """The rows ``rows`` of ``scores``."""
    return BatchScores(
        values={name: column[rows] for name, column in scores.values.items()},
        subscores=scores.subscores[rows],
        contributions=scores.contributions[rows],
        score=scores.score[rows],
        band=scores.band[rows],
        missing=scores.missing[rows],
        completeness=scores.completeness[rows],
        candidates=scores.candidates,
        gains=scores.gains[rows],
    )


def shares_column(config, detection) -> pa.Array:
    """The ``sectors`` column: ``id:share`` of every sector of a row, ``;``-separated, the main one
    first, then larger shares, higher tiers, sectors.yaml's order; shares in hundredths add up to
    exactly 1.00 (the main sector takes the rounding), as
    :meth:`matcher.sectors.SectorDetector.matches_row` gives them."""
    shares, main = detection.shares, detection.sector
    n = len(main)
    if shares.size == 0:
        return pa.array([""] * n, pa.string())
    items = _share_items(tuple(config.sector_ids))  # "id:0.00" ... "id:1.00" of every sector
    # Most rows have one sector: "id:1.00".
    column = pc.if_else(pa.array(main >= 0), items.take(pa.array(np.maximum(main, 0) * 101 + 100)), "")
    rows, sectors = np.nonzero(shares > 0)
    several = np.bincount(rows, minlength=n) > 1
    pick = several[rows]
    if not pick.any():
        return column
    rows, sectors = rows[pick], sectors[pick]
    cents = np.rint(shares[rows, sectors] * 100).astype(np.int64)
    is_main = sectors == main[rows]
    others = np.bincount(rows[~is_main], weights=cents[~is_main], minlength=n).astype(np.int64)
    cents[is_main] = 100 - others[rows[is_main]]
    # a share rounded up past the main one's (a tie) gives the cent back, as share_cents does
    main_cents = np.zeros(n, dtype=np.int64)
    main_cents[rows[is_main]] = cents[is_main]
    excess = np.where(is_main, 0, np.maximum(cents - main_cents[rows], 0))
    cents -= excess
    cents[is_main] += np.bincount(rows, weights=excess, minlength=n).astype(np.int64)[rows[is_main]]
    cents = np.clip(cents, 0, 100)
    # one integer key (row, main first, larger share, higher tier, sectors.yaml's order): one argsort
    tiers = sorted({s.tier_weight for s in config.sectors}, reverse=True)
    tier_rank = np.array([tiers.index(s.tier_weight) for s in config.sectors], dtype=np.int64)
    n_sectors = len(config.sectors)
    key = (((rows * 2 + ~is_main) * 101 + (100 - cents)) * len(tiers) + tier_rank[sectors]) * n_sectors + sectors
    order = np.argsort(key)
    rows, text = rows[order], items.take(pa.array(sectors[order] * 101 + cents[order]))
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    offsets = np.append(starts, len(rows)).astype(np.int32)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), text), ";")
    return pc.replace_with_mask(column, pa.array(several), joined)


@lru_cache(maxsize=8)
def _share_items(sector_ids: tuple[str, ...]) -> pa.Array:
    """``f"{id}:{k / 100:.2f}"`` for every sector and k = 0..100, at ``sector * 101 + k``."""
    return pa.array([f"{sid}:{k / 100:.2f}" for sid in sector_ids for k in range(101)], pa.string())


@lru_cache(maxsize=256)
def _frame(lang: str, key: str, **values: str) -> tuple[str, ...]:
    """``message(lang, key, **values)`` cut at its ``"\\x00"`` values: the row kernels' fixed phrases, cut once."""
    return tuple(message(lang, key, **values).split("\x00"))


_ROW_WORDS: dict[tuple[int, str], tuple[Scorer, tuple[str, ...], dict]] = {}


def _row_words(scorer: Scorer, lang: str) -> tuple[tuple[str, ...], dict]:
    """A fitted scorer's criterion labels in ``lang`` and its (so far worded) missing clauses by mask, for the
    row kernels: looked up once per scorer and language, not once per profile."""
    cached = _ROW_WORDS.get((id(scorer), lang))
    if cached is None or cached[0] is not scorer:
        if len(_ROW_WORDS) > 256:
            _ROW_WORDS.clear()
        labels = tuple(c.label.get(lang, c.label["en"]) for c in scorer.config_.criteria)
        cached = _ROW_WORDS[(id(scorer), lang)] = (scorer, labels, {})
    return cached[1], cached[2]


def missing_row(scorer: Scorer, missing: list[bool], lang: str) -> tuple[tuple[str, ...], str]:
    """:func:`missing_fields` of one row and its :func:`missing_clause` in ``lang``: worded once per scorer,
    language and mask of unknown inputs (a scorer has a few hundred masks at most), as the batch path words
    each distinct mask once (:func:`_missing_columns`)."""
    clauses = _row_words(scorer, lang)[1]
    key = tuple(missing)
    found = clauses.get(key)
    if found is None:
        if len(clauses) > 4096:
            clauses.clear()
        fields = missing_fields(scorer, missing)
        found = clauses[key] = (tuple(fields), missing_clause(fields, lang))
    return found


def explain_row(scorer: Scorer, scores: RowScores, detection: RowDetection, lang: str = "en") -> str:
    """The ``explanation`` column of :func:`render_batch` for one profile, built from the same phrases."""
    config = scorer.config_
    band = config.bands[scores.band]
    head = _frame(lang, "head", score="\x00", band=band.name, band_label=band.label.get(lang, band.label["en"]))
    before, after = _sector_phrases(config, lang)[0]
    combo = _sector_combo(len(config.sectors), detection.sector, detection.source)
    evidence = detection.evidence if detection.source in (SOURCE_CODE, SOURCE_TEXT) else ""
    return "".join(
        (
            head[0],
            text_number(scores.score, lang),
            head[1],
            "; ",
            before[combo],
            evidence,
            after[combo],
            _strongest_row(scorer, scores, lang),
            missing_row(scorer, scores.missing, lang)[1],
            _improvement_row(scorer, scores, lang),
        )
    )


def _strongest_row(scorer: Scorer, scores: RowScores, lang: str) -> str:
    """:func:`_strongest` for one profile."""
    points = scores.contributions
    top = sorted(range(len(points)), key=points.__getitem__, reverse=True)[:2]  # stable, like argsort of -points
    labels = _row_words(scorer, lang)[0]
    items = [f"{labels[j]} +{text_number(points[j], lang)}" if points[j] > 0 else "" for j in top]
    if not items or not items[0]:
        return ""
    head = _frame(lang, "strongest", items="\x00")
    joined = items[0] + (", " + items[1] if len(items) == 2 and items[1] else "")
    return "; " + head[0] + joined + head[1]


def _improvement_row(scorer: Scorer, scores: RowScores, lang: str) -> str:
    """The improvement clause of :func:`_improvements` for one profile."""
    if not scorer.candidates_ or max(scores.gains) <= 0:
        return "; " + _frame(lang, "nothing_to_improve")[0]
    best = scores.gains.index(max(scores.gains))  # the first best, like argmax
    frame = _frame(lang, "improve", advice="\x00", gain="\x00")
    advice = advice_texts(scorer, lang)[best]
    return "; " + frame[0] + advice + frame[1] + text_number(scores.gains[best], lang) + frame[2]
