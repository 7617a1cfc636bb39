"""Tests for matcher/calibration.py: weights suggested from outcomes, judged on held-out leads."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.calibration import fit_weights, rescale, suggest_weights


@pytest.fixture(scope="module")
def synthetic():
    """200 leads, 4 criteria; whether a firm invested depends on criterion 0 only."""
    rng = np.random.default_rng(0)
    S = rng.random((200, 4))  # noqa: N806
    y = (S[:, 0] + 0.15 * rng.standard_normal(200) > 0.5).astype(np.int64)
    return S, y


@pytest.fixture(scope="module")
def calibration(synthetic):
    S, y = synthetic  # noqa: N806
    return suggest_weights(S, y, [25.0, 25.0, 25.0, 25.0], random_state=0)


def test_criterion_0_gets_the_largest_weight(calibration):
    assert calibration.fitted
    w = calibration.suggested_weights
    assert np.argmax(w) == 0 and w[0] > 2 * w[1:].max()
    assert (w >= 0).all() and w.sum() == pytest.approx(100.0)  # same total as the current weights


def test_suggestion_ranks_held_out_outcomes_at_least_as_well(calibration):
    assert calibration.auc_suggested >= calibration.auc_current
    assert calibration.ap_suggested >= calibration.ap_current
    assert calibration.auc_suggested > 0.85
    folds = calibration.extra["folds"]
    assert len(folds["auc_current"]) == len(folds["auc_suggested"]) == calibration.extra["n_splits"] == 5
    assert calibration.auc_current == pytest.approx(np.mean(folds["auc_current"]))
    assert "held-out ROC AUC" in calibration.message


def test_reports_the_leads_whose_rank_changes(calibration, synthetic):
    S, _ = synthetic  # noqa: N806
    moves = calibration.biggest_moves(5)
    assert len(moves) == 5
    assert abs(moves[0]["change"]) >= abs(moves[-1]["change"]) > 0
    comparison = calibration.comparison
    assert (
        comparison.rank_a.tolist()
        == (1 + (S @ calibration.current_weights > (S @ calibration.current_weights)[:, None]).sum(axis=1)).tolist()
    )


def test_never_changes_the_current_weights(synthetic):
    S, y = synthetic  # noqa: N806
    current = np.array([40.0, 30.0, 20.0, 10.0])
    result = suggest_weights(S, y, current, alphas=(1.0,), n_splits=3)
    assert current.tolist() == [40.0, 30.0, 20.0, 10.0]
    assert result.current_weights.tolist() == [40.0, 30.0, 20.0, 10.0]
    assert result.suggested_weights.sum() == pytest.approx(100.0)


@pytest.mark.parametrize("n_invested, n_dropped", [(10, 9), (4, 40), (40, 4)])
def test_too_few_outcomes_no_fit(n_invested, n_dropped):
    rng = np.random.default_rng(1)
    S = rng.random((n_invested + n_dropped, 3))  # noqa: N806
    y = np.array([1] * n_invested + [0] * n_dropped)
    result = suggest_weights(S, y, [1.0, 1.0, 1.0])
    assert not result.fitted and result.suggested_weights is None and result.auc_suggested is None
    assert result.message.startswith("too few outcomes")
    assert f"{n_invested} invested and {n_dropped} dropped" in result.message
    assert result.biggest_moves() == []


def test_leads_without_outcome_are_ranked_but_not_fitted(synthetic):
    S, y = synthetic  # noqa: N806
    partial = y.astype(np.float64)
    partial[30:] = np.nan  # 30 outcomes left
    partial[:10] = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    result = suggest_weights(S, partial, [25.0] * 4, alphas=(1.0,), n_splits=3)
    assert result.extra["n_outcomes"] == 30 and result.fitted
    assert len(result.comparison.rank_b) == 200 and result.extra["n_splits"] == 3


def test_no_signal_says_so():
    S = np.zeros((40, 3))  # noqa: N806 - every lead alike: nothing can predict the outcome
    y = np.array([0, 1] * 20)
    result = suggest_weights(S, y, [1.0, 1.0, 1.0])
    assert not result.fitted and "no criterion predicts" in result.message


@pytest.mark.parametrize("outcomes, message", [([1, 0, 2], "outcomes must be 1"), ([1, 0], "one value per lead")])
def test_bad_outcomes(outcomes, message):
    with pytest.raises(ValueError, match=message):
        suggest_weights(np.ones((3, 2)), outcomes, [1.0, 1.0])


def test_rescale_and_fit_weights_hand_worked():
    assert rescale(np.array([1.0, 3.0]), 8.0).tolist() == [2.0, 6.0]
    S = np.array([[1.0, 0.0], [0.0, 1.0]] * 10)  # noqa: N806 - invested exactly when criterion 0 is met
    y = np.array([1, 0] * 10)
    coef, alpha = fit_weights(S, y, alphas=(0.01,), n_splits=2)
    assert alpha == 0.01 and coef[1] == 0.0 and coef[0] > 0.9
