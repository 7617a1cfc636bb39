"""Keep a scored batch's numbers so its full results can be rebuilt later without scoring again.

``score_file(results_path=...)`` writes, per chunk, the rows :func:`kept_rows` makes: for every
scored row its record number, its input values, and what the model computed (scores, sub-scores,
gains, missing inputs, the sector detection's codes, text scores and terms, the explanation in
every language) as Arrow columns, built over the whole chunk with numpy (no Python per row). The
web app's import then calls :func:`results_from` on the rows it stores: the same
:class:`~matcher.result.ScoreResult` that :func:`matcher.assess_many` gives, from these numbers,
with its wording in every language. Rebuilding needs the scorer that scored the batch (the same
weights): labels, advice and sector evidence come from its config.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .explain import advice_texts, worded_columns
from .fields import LANGS
from .scoring import RowScores, Scorer
from .sectors import SOURCE_DEFAULT


def _matrix(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """A 2-D numpy array as an Arrow list column (one list per row), without a Python loop."""
    n, k = values.shape
    return pa.ListArray.from_arrays(
        pa.array(np.arange(0, n * k + 1, k, dtype=np.int32)), pa.array(values.reshape(-1), kind)
    )


def kept_rows(
    scorer: Scorer,
    frame,
    scores,
    explanation: pa.Array,
    lang: str,
    batch: pa.RecordBatch,
    headers: Sequence[str],
    rows: np.ndarray,
) -> pa.Table:
    """The scored rows of one chunk as the results file keeps them (see the module docstring).

    Parameters
    ----------
    scorer, frame, scores
        The fitted scorer, :func:`~matcher.frame.read_frame` and :meth:`Scorer.evaluate` of the chunk.
    explanation : pyarrow Array
        The chunk's ``explanation`` column in ``lang`` (:func:`~matcher.explain.render_batch`).
    batch : pyarrow RecordBatch
        The chunk's input columns, in the order of ``headers``.
    rows : numpy array
        The spreadsheet row number of each row of the chunk (header = 1).
    """
    keep = np.flatnonzero(frame.ok)
    take = pa.array(keep)
    det = frame.detection
    n = frame.n_rows
    text_scores = det.text_scores if det.text_scores.size else np.zeros((n, 0))
    matrix = det.hits.matrix
    terms = pa.ListArray.from_arrays(pa.array(matrix.indptr.astype(np.int32)), pa.array(matrix.indices, pa.int32()))
    columns: dict[str, pa.Array] = {
        "record": pa.array(rows - 2, pa.int64()),
        **{f"in{i}": batch.column(i) for i in range(batch.num_columns)},
        "subscores": _matrix(scores.subscores, pa.float64()),
        "contributions": _matrix(scores.contributions, pa.int64()),
        "score": pa.array(scores.score, pa.int64()),
        "band": pa.array(scores.band, pa.int64()),
        "missing": _matrix(scores.missing, pa.bool_()),
        "completeness": pa.array(scores.completeness),
        "gains": _matrix(scores.gains, pa.int64()),
        "sector": pa.array(det.sector, pa.int64()),
        "codes": pa.array([list(c) for c in frame.codes], pa.list_(pa.string())),
        "declared": pa.array(frame.declared, pa.list_(pa.int64())),
        "text_scores": _matrix(text_scores, pa.float64()),
        "terms": terms,
        "confidence": pa.array(det.confidence, pa.float64()),
        "source": pa.array(det.source, pa.int8()),
    }
    for other in LANGS:
        columns[f"explanation_{other}"] = (
            explanation if other == lang else worded_columns(scorer, frame, scores, other)["explanation"]
        )
    table = pa.table({k: v.take(take) for k, v in columns.items()})
    return table.replace_schema_metadata({"headers": json.dumps(list(headers), ensure_ascii=False), "lang": lang})


def results_from(
    scorer: Scorer, rows: list[dict[str, Any]], headers: Sequence[str], lang: str
) -> Iterator[tuple[dict[str, str], Any, dict[str, dict]]]:
    """(input values, :class:`~matcher.result.ScoreResult` in ``lang``, wording in every language) per kept row.

    ``rows`` are rows of the results file as ``to_pylist`` gives them; ``scorer`` is the one that
    scored them. Nothing is scored: the numbers are the kept ones.
    """
    from .result import _params, _result

    params = _params(scorer)
    advice = {x: advice_texts(scorer, x) for x in LANGS}
    detector = scorer.detector_
    for row in rows:
        values = RowScores(
            row["subscores"],
            row["contributions"],
            row["score"],
            row["band"],
            row["missing"],
            row["completeness"],
            row["gains"],
        )
        profile = {h: row[f"in{i}"] for i, h in enumerate(headers)}
        sectors = detector.matches_row(
            row["sector"], tuple(row["codes"]), row["declared"], row["text_scores"], row["terms"]
        )
        name = next((v for h, v in profile.items() if _is_name(h)), "")
        result = _result(
            scorer,
            str(name).strip(),
            values,
            row["sector"],
            sectors,
            row[f"explanation_{lang}"],
            lang,
            params,
            row["confidence"],
            row["source"] == SOURCE_DEFAULT,
            row["terms"],
        )
        order = sorted((j for j, gain in enumerate(values.gains) if gain > 0), key=lambda j: -values.gains[j])
        texts = {
            x: {
                "explanation": row[f"explanation_{x}"],
                "advice": {scorer.candidates_[j].field: advice[x][j] for j in order},
            }
            for x in LANGS
        }
        yield profile, result, texts


def _is_name(header: str) -> bool:
    from .profile import field_for

    return field_for(header) == "name"


def kept_headers(path) -> list[str]:
    """The input headers a results file keeps (its ``in0``, ``in1``… columns), from its schema."""
    from pyarrow import ipc

    with pa.memory_map(str(path)) as source:
        schema = ipc.open_file(source).schema
    return json.loads((schema.metadata or {}).get(b"headers", b"[]"))
