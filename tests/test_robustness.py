"""Tests for matcher/robustness.py: Monte Carlo rank intervals and top-k shares."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from matcher.compare import rank_desc
from matcher.robustness import (
    chunk_ranks,
    column_ranks,
    grid_ranks,
    rank_robustness,
    rank_summary,
    sample_weights,
)


def test_sample_weights_bounds_and_seed():
    w = sample_weights([30.0, 70.0], 500, spread=0.2, random_state=3)
    assert w.shape == (500, 2)
    assert (w[:, 0] >= 24.0).all() and (w[:, 0] <= 36.0).all()
    assert (w[:, 1] >= 56.0).all() and (w[:, 1] <= 84.0).all()
    np.testing.assert_array_equal(w, sample_weights([30.0, 70.0], 500, spread=0.2, random_state=3))
    np.testing.assert_array_equal(sample_weights([30.0, 70.0], 4, spread=0.0), [[30.0, 70.0]] * 4)


def test_chunk_ranks_hand_worked():
    scores = np.array([[5.0, 9.0, 5.0, 1.0], [1.0, 2.0, 3.0, 4.0], [7.0, 7.0, 7.0, 7.0]])
    assert chunk_ranks(scores).tolist() == [[2, 1, 2, 4], [4, 3, 2, 1], [1, 1, 1, 1]]
    # Items standing for 2, 3 and 1 leads: 3 leads above the first item, none above the second.
    assert chunk_ranks(np.array([[5.0, 9.0, 1.0]]), np.array([2, 3, 1])).tolist() == [[4, 1, 6]]
    assert chunk_ranks(np.array([[5.0, 5.0, 1.0]]), np.array([2, 3, 1])).tolist() == [[1, 1, 6]]


def test_chunk_ranks_match_scipy_min_ranks_with_many_ties():
    scores = np.random.default_rng(0).integers(0, 6, size=(40, 30)).astype(np.float32)
    np.testing.assert_array_equal(chunk_ranks(scores), rankdata(-scores, axis=1, method="min"))


def test_rank_summary_hand_worked():
    ranks = np.array([[3, 1], [1, 1], [2, 1], [5, 1], [4, 1]], dtype=np.uint16)  # 5 weightings x 2 leads
    # median of (1, 2, 3, 4, 5) is 3; min 1, max 5; the second lead is always first.
    assert rank_summary(ranks, (0.5,)).tolist() == [[3, 1], [1, 1], [5, 1]]
    # 5th and 95th percentiles (inverted CDF) of 1..20 are the 1st and 19th values.
    low, high, _, _ = rank_summary(np.arange(20, 0, -1)[:, None], (0.05, 0.95))
    assert (low[0], high[0]) == (1, 19)


def test_zero_spread_gives_the_plain_rank():
    rng = np.random.default_rng(1)
    S = np.round(rng.random((60, 4)), 1)  # noqa: N806 - many ties, some repeated rows
    S[5] = S[6]
    w = np.array([30.0, 30.0, 25.0, 15.0])
    result = rank_robustness(S, w, n_samples=50, spread=0.0, top_k=10, random_state=0)
    plain = rank_desc(S @ w)
    for interval in (result.rank_low, result.rank_median, result.rank_high, result.rank_min, result.rank_max):
        np.testing.assert_array_equal(interval, plain)
    np.testing.assert_array_equal(result.base_rank, plain)
    np.testing.assert_array_equal(result.p_top_k, (plain <= 10).astype(float))


def test_a_dominating_lead_stays_first():
    S = np.random.default_rng(2).random((200, 5)) * 0.9  # noqa: N806
    S[17] = 1.0
    result = rank_robustness(S, [20.0, 20.0, 20.0, 20.0, 20.0], n_samples=300, spread=0.5, top_k=1, random_state=0)
    assert result.p_top_k[17] == 1.0 and result.rank_max[17] == 1
    assert result.p_top_k.sum() == pytest.approx(1.0)


def test_hand_worked_two_criteria():
    # Lead 0 beats lead 1 exactly when w0 > w1 (half the weightings); lead 2 always sits between them.
    S = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])  # noqa: N806
    result = rank_robustness(S, [1.0, 1.0], n_samples=4000, spread=0.5, top_k=1, random_state=0)
    assert result.rank_min.tolist() == [1, 1, 2] and result.rank_max.tolist() == [3, 3, 2]
    assert result.p_top_k[0] == pytest.approx(0.5, abs=0.03)
    assert result.p_top_k[0] + result.p_top_k[1] == pytest.approx(1.0)
    assert result.p_top_k[2] == 0.0
    assert result.describe(2) == "top-1 in 0 % of weightings (ranks 2-2)"


def test_same_result_whatever_the_chunks_and_threads():
    S = np.random.default_rng(4).random((300, 6))  # noqa: N806
    w = np.arange(1.0, 7.0)
    a = rank_robustness(S, w, n_samples=700, random_state=5, chunk_size=64, n_jobs=1)
    b = rank_robustness(S, w, n_samples=700, random_state=5, chunk_size=1000, n_jobs=2)
    for name in ("rank_low", "rank_median", "rank_high", "rank_min", "rank_max", "p_top_k"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.extra["n_samples"] == 700 and a.extra["spread"] == 0.2 and a.extra["random_state"] == 5
    assert (a.rank_min <= a.rank_low).all() and (a.rank_low <= a.rank_median).all()
    assert (a.rank_median <= a.rank_high).all() and (a.rank_high <= a.rank_max).all()


def test_identical_leads_get_identical_results():
    S = np.random.default_rng(6).random((50, 3))  # noqa: N806
    S[10] = S[20] = S[30]
    result = rank_robustness(S, [1.0, 2.0, 3.0], n_samples=200, random_state=0)
    assert result.extra["n_distinct_rows"] == 48
    assert len({(result.rank_low[i], result.rank_high[i], result.p_top_k[i]) for i in (10, 20, 30)}) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weights": [1.0]}, "weights"),
        ({"spread": 1.0}, "spread"),
        ({"spread": -0.1}, "spread"),
        ({"n_samples": 0}, "positive"),
        ({"top_k": 0}, "positive"),
    ],
)
def test_bad_parameters(kwargs, message):
    args = {"matrix": np.ones((3, 2)), "weights": [1.0, 1.0], **kwargs}
    with pytest.raises(ValueError, match=message):
        rank_robustness(**args)


def test_zero_spread_on_the_project_sub_scores(scorer):
    """Real sub-scores tie often (0.6 x 12 + 0.4 x 12 = 12 x 1.0): float32 sampling must keep those ties."""
    values = np.array([0.0, 0.3, 0.5, 0.6, 0.75, 1.0])
    rng = np.random.default_rng(7)
    S = rng.choice(values, size=(3000, len(scorer.weights_)))  # noqa: N806
    result = rank_robustness(S, scorer.weights_, n_samples=20, spread=0.0, top_k=50)
    plain = rank_desc(S @ scorer.weights_)
    np.testing.assert_array_equal(result.rank_low, plain)
    np.testing.assert_array_equal(result.rank_high, plain)
    np.testing.assert_array_equal(result.p_top_k, (plain <= 50).astype(float))
    assert len(set(plain.tolist())) < 2000  # many ties really happen


def test_grid_ranks_hand_worked_and_against_scipy():
    assert grid_ranks(np.array([[5, 9, 5, 1], [0, 0, 0, 0]])).tolist() == [[2, 1, 2, 4], [1, 1, 1, 1]]
    assert grid_ranks(np.array([[5, 9, 1]]), np.array([2, 3, 1])).tolist() == [[4, 1, 6]]
    grid = np.random.default_rng(8).integers(-20, 50, size=(25, 80))
    np.testing.assert_array_equal(grid_ranks(grid), rankdata(-grid, axis=1, method="min"))
    np.testing.assert_array_equal(grid_ranks(grid), chunk_ranks(grid))


def test_counting_and_sorting_paths_agree():
    S = np.random.default_rng(9).random((150, 5))  # noqa: N806 - scores about 0.6 point apart
    w = [30.0, 25.0, 20.0, 15.0, 10.0]
    counted = rank_robustness(S, w, n_samples=300, random_state=1, resolution=1e-4)
    sorted_ = rank_robustness(S, w, n_samples=300, random_state=1, resolution=1e-12)  # too many bins: sorts
    assert counted.extra["resolution"] == 1e-4
    # Only scores within 0.01 point of each other may rank differently: a rank moves by 1 at most.
    for name in ("rank_low", "rank_median", "rank_high", "rank_min", "rank_max", "base_rank"):
        assert np.abs(getattr(counted, name) - getattr(sorted_, name)).max() <= 1
    np.testing.assert_allclose(counted.p_top_k, sorted_.p_top_k, atol=0.01)


def test_rows_give_the_figures_of_the_whole_computation():
    rng = np.random.default_rng(3)
    S = rng.integers(0, 5, size=(400, 4)) / 4.0  # noqa: N806 -- many equal rows and ties
    w = [30.0, 20.0, 25.0, 25.0]
    whole = rank_robustness(S, w, n_samples=300, spread=0.3, top_k=20, random_state=7)
    rows = [399, 0, 17, 17, 250]
    part = rank_robustness(S, w, n_samples=300, spread=0.3, top_k=20, random_state=7, rows=rows)
    for name in ("rank_low", "rank_median", "rank_high", "rank_min", "rank_max", "p_top_k", "base_rank"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[rows], err_msg=name)


@pytest.mark.parametrize("rows", [[], [-1], [400]])
def test_rows_outside_the_matrix_are_refused(rows):
    with pytest.raises(ValueError, match="rows must be indices"):
        rank_robustness(np.ones((400, 2)), [1.0, 1.0], n_samples=10, rows=rows)


@pytest.mark.parametrize("seed", range(5))
def test_column_ranks_are_the_grid_ranks_of_those_columns(seed):
    rng = np.random.default_rng(seed)
    grid = rng.integers(-50, 50, size=(40, 300))  # many ties
    counts = rng.integers(1, 9, size=300)
    columns = rng.choice(300, size=7, replace=False)
    np.testing.assert_array_equal(column_ranks(grid, columns), grid_ranks(grid)[:, columns])
    np.testing.assert_array_equal(column_ranks(grid, columns, counts), grid_ranks(grid, counts)[:, columns])
    wide = grid * 10**11  # beyond 32 bits: compared as they are
    np.testing.assert_array_equal(column_ranks(wide, columns, counts), chunk_ranks(wide, counts)[:, columns])


def _figures(result):
    return {
        name: getattr(result, name)
        for name in ("rank_low", "rank_median", "rank_high", "rank_min", "rank_max", "p_top_k", "base_rank")
    }


@pytest.mark.parametrize("rows", [None, [0, 5, 5, 11], list(range(12))])
def test_counted_rows_give_the_figures_of_the_rows_repeated(rows):
    rng = np.random.default_rng(4)
    distinct = rng.integers(0, 5, size=(12, 3)) / 4.0
    counts = rng.integers(1, 40, size=12)
    counts[3] = 1
    repeated = np.repeat(distinct, counts, axis=0)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])  # where each distinct row starts in ``repeated``
    w = [40.0, 35.0, 25.0]
    grouped = rank_robustness(
        distinct, w, n_samples=400, spread=0.3, top_k=15, random_state=2, rows=rows, counts=counts
    )
    whole = rank_robustness(
        repeated, w, n_samples=400, spread=0.3, top_k=15, random_state=2, rows=None if rows is None else first[rows]
    )
    for name, values in _figures(grouped).items():
        np.testing.assert_array_equal(
            values, _figures(whole)[name][first] if rows is None else _figures(whole)[name], err_msg=name
        )


def test_counts_may_repeat_a_row_that_is_also_given_again():
    S = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # noqa: N806 - row 2 equals row 0
    w = [60.0, 40.0]
    grouped = rank_robustness(S, w, n_samples=50, random_state=0, counts=[3, 2, 1], rows=[2])
    whole = rank_robustness(np.repeat(S, [3, 2, 1], axis=0), w, n_samples=50, random_state=0, rows=[5])
    for name, values in _figures(grouped).items():
        np.testing.assert_array_equal(values, _figures(whole)[name], err_msg=name)
    assert grouped.base_rank.tolist() == [1]


@pytest.mark.parametrize("counts", [[1, 2], [1, 0, 1], [1, 1.5, 1], [[1, 1, 1]] * 2])
def test_counts_that_are_not_one_whole_count_per_row_are_refused(counts):
    with pytest.raises(ValueError, match="counts must be 3 whole numbers"):
        rank_robustness(np.eye(3), [1.0, 1.0, 1.0], n_samples=10, counts=counts)
