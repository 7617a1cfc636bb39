"""Tests for matcher/compare.py, and the cross-check of the project's ranking with scikit-criteria."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from matcher_testlib import SAMPLE_CSV
from scipy.stats import rankdata

from matcher.compare import compare_rankings, rank_desc
from matcher.frame import read_frame
from matcher.profile import table_from_mappings
from matcher.scoring import wsm


def test_rank_desc_ties_share_the_best_rank():
    assert rank_desc([50.0, 80.0, 50.0, 10.0, 80.0]).tolist() == [3, 1, 3, 5, 1]


def test_hand_worked_comparison():
    # A ranks a > b > c > d > e; B swaps a and e and lifts d above b.
    a = [90.0, 80.0, 70.0, 60.0, 50.0]
    b = [40.0, 70.0, 65.0, 75.0, 95.0]
    c = compare_rankings(a, b, ["a", "b", "c", "d", "e"], top_k=2)
    assert c.rank_a.tolist() == [1, 2, 3, 4, 5]
    assert c.rank_b.tolist() == [5, 3, 4, 2, 1]
    assert c.change.tolist() == [-4, -1, -1, 2, 4]
    assert c.entered == ["e", "d"] and c.left == ["a", "b"]
    # Of the 10 pairs (i above j under A), B keeps only b above c (70 > 65): 1 concordant, 9 discordant.
    assert c.tau == pytest.approx((1 - 9) / 10)
    assert c.extra["n_moved"] == 5
    assert [r["id"] for r in c.rows()] == ["e", "d", "b", "c", "a"]
    assert c.biggest_moves(2) == [
        {"id": "a", "rank_a": 1, "rank_b": 5, "change": -4},
        {"id": "e", "rank_a": 5, "rank_b": 1, "change": 4},
    ]


def test_same_scores_no_moves_and_ties_at_the_cut_count_inside():
    c = compare_rankings([5.0, 5.0, 1.0], [5.0, 5.0, 1.0], [1, 2, 3], top_k=1)
    assert c.rank_a.tolist() == [1, 1, 3]
    assert c.entered == [] and c.left == [] and c.tau == pytest.approx(1.0)


def test_single_lead_has_no_tau():
    c = compare_rankings([1.0], [2.0], ["x"])
    assert np.isnan(c.tau) and c.rank_b.tolist() == [1]


@pytest.mark.parametrize(
    "args, message",
    [
        (([1.0, 2.0], [1.0], ["a", "b"]), "equal length"),
        (([1.0, 2.0], [1.0, 2.0], ["a"]), "equal length"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        compare_rankings(*args)


def test_top_k_must_be_positive():
    with pytest.raises(ValueError, match="top_k"):
        compare_rankings([1.0], [1.0], ["a"], top_k=0)


@pytest.fixture(scope="module")
def sample_matrix(scorer):
    """Sub-score matrix of the sample profiles (the fixture set) under the project's sectors.yaml."""
    with open(SAMPLE_CSV, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table, _ = table_from_mappings(rows)
    frame = read_frame(table, scorer.detector_)
    return scorer.transform(frame)[frame.ok]


def test_ranking_equals_scikit_criteria_weighted_sum(sample_matrix, scorer):
    """Issue 4, item 6: an independent weighted-sum implementation ranks the fixture set the same."""
    import skcriteria as skc
    from skcriteria.agg.simple import WeightedSumModel

    assert sample_matrix.shape[0] >= 40
    _, scores = wsm(sample_matrix, scorer.weights_)
    ours = rank_desc(scores)
    dm = skc.mkdm(sample_matrix, [max] * sample_matrix.shape[1], weights=scorer.weights_)
    theirs = WeightedSumModel().evaluate(dm)
    np.testing.assert_allclose(theirs.e_.score, scores, rtol=0, atol=1e-9)
    # scikit-criteria ranks ties densely (1, 1, 2); the same weak order in competition ranks is ours.
    assert rankdata(theirs.rank_, method="min").astype(int).tolist() == ours.tolist()
    assert len(set(ours.tolist())) > 10  # the fixture really orders many leads
