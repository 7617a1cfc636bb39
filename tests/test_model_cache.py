"""The scorer with a kept sector vocabulary (``matcher score``'s) and the vocabulary it keeps between runs.

:class:`matcher.Scorer` fits its vocabulary with scikit-learn every time by default; with
``cached_vocabulary=True`` it reads the fit an earlier run kept, so the command's process need
not import scikit-learn. Both must score every profile identically.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from matcher_testlib import SAMPLE_CSV, SECTORS_YAML

from matcher import Scorer
from matcher.batch import score_file
from matcher.frame import read_frame
from matcher.profile import table_from_mappings
from matcher.text import SectorVocabulary, _fit_path, cache_dir

SAMPLES = SAMPLE_CSV


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """An empty cache directory of this test's own."""
    monkeypatch.setenv("MATCHER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def keyword_config(config):
    """A sectors file the shipped classifier was not trained on (one keyword more): its
    vocabulary is the keyword fit that scikit-learn makes and the cache keeps."""
    sector = config.sectors[0]
    keywords = dict(sector.keywords) | {"en": (*sector.keywords["en"], "nanotube displays")}
    return config.replace(sectors=(dataclasses.replace(sector, keywords=keywords), *config.sectors[1:]))


def test_the_shipped_classifier_needs_no_fit(own_cache):
    from matcher.config import load_sectors

    vocabulary = SectorVocabulary(load_sectors(), cached=True)
    assert vocabulary.learned and not own_cache.exists()


def _docs(config):
    return [[kw for lang in ("en", "ru", "vi") for kw in s.keywords.get(lang, ())] for s in config.sectors]


def test_the_cache_directory_follows_the_environment(own_cache):
    assert cache_dir() == own_cache


def test_a_kept_fit_is_the_fit_scikit_learn_makes(own_cache, keyword_config):
    fresh = SectorVocabulary(keyword_config)  # scikit-learn, nothing kept
    assert not own_cache.exists()
    first = SectorVocabulary(keyword_config, cached=True)  # fits and keeps
    kept = SectorVocabulary(keyword_config, cached=True)  # reads what was kept
    assert len(list(own_cache.iterdir())) == 1
    for vocabulary in (first, kept):
        assert vocabulary.terms == fresh.terms
        assert np.array_equal(vocabulary.dense_weights, fresh.dense_weights)  # bit for bit
        assert vocabulary.words == fresh.words


def test_the_model_scores_every_sample_as_the_estimator_does(own_cache, config, scorer):
    Scorer(config=config, cached_vocabulary=True).fit()  # keeps the vocabulary
    model = Scorer(config=config, cached_vocabulary=True).fit()  # reads it
    assert model.get_params() == scorer.get_params() | {"cached_vocabulary": True}
    assert model.scoring_params() == scorer.scoring_params()
    import csv

    with open(SAMPLES, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [f"{r.get('description', '')} сельское хозяйство tự động hóa smart city" for r in rows]
    rows = [r | {"description": t} for r, t in zip(rows, texts, strict=True)]
    table = table_from_mappings(rows)[0]
    a, b = model.evaluate(read_frame(table, model.detector_)), scorer.evaluate(read_frame(table, scorer.detector_))
    for name in ("contributions", "score", "band", "missing", "completeness", "gains"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_matcher_score_writes_the_same_file_either_way(own_cache, tmp_path, scorer):
    by_estimator, by_model = tmp_path / "a.csv", tmp_path / "b.csv"
    score_file(SAMPLES, by_estimator, scorer, lang="ru")
    Scorer(cached_vocabulary=True).fit()
    score_file(SAMPLES, by_model, Scorer(cached_vocabulary=True).fit(), lang="ru")
    assert by_model.read_bytes() == by_estimator.read_bytes()


def test_changed_keywords_get_a_fit_of_their_own(own_cache, keyword_config):
    SectorVocabulary(keyword_config, cached=True)
    sector = keyword_config.sectors[0]
    keywords = dict(sector.keywords) | {"en": (*sector.keywords["en"], "quantum widgets")}
    changed = keyword_config.replace(
        sectors=[dataclasses.replace(sector, keywords=keywords), *keyword_config.sectors[1:]]
    )
    vocabulary = SectorVocabulary(changed, cached=True)
    assert "quantum widget" in vocabulary.terms
    assert len(list(own_cache.iterdir())) == 2


@pytest.mark.parametrize("damage", ["", "{not json", '{"key": "other"}', "[1, 2]"])
def test_a_damaged_cache_file_is_fitted_again(own_cache, keyword_config, damage):
    fresh = SectorVocabulary(keyword_config)
    path, _ = _fit_path(_docs(keyword_config))
    path.parent.mkdir(parents=True)
    path.write_text(damage, encoding="utf-8")
    vocabulary = SectorVocabulary(keyword_config, cached=True)
    assert vocabulary.terms == fresh.terms
    assert json.loads(path.read_text(encoding="utf-8"))["terms"] == fresh.terms  # written anew


def test_a_cache_that_cannot_be_written_is_done_without(tmp_path, monkeypatch, keyword_config):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("MATCHER_CACHE_DIR", str(blocker / "cache"))  # below a file: mkdir fails
    assert SectorVocabulary(keyword_config, cached=True).terms == SectorVocabulary(keyword_config).terms


def test_matcher_score_does_not_import_scikit_learn(own_cache, tmp_path):
    """About a second of every `matcher score` run (bench_score.py): the shipped classifier is data."""
    code = (
        "import sys; from matcher.cli import main; "
        f"main(['score', {str(SAMPLES)!r}, '-o', sys.argv[1], '-q']); print('sklearn' in sys.modules)"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / f"{i}.csv")], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
        for i in range(2)
    ]
    assert runs == ["False", "False"]  # the shipped classifier needs no fit, not even in the first run
    assert (tmp_path / "0.csv").read_bytes() == (tmp_path / "1.csv").read_bytes()


def test_the_command_sets_up_arrows_allocator_before_pyarrow_loads():
    """`matcher score` sets MIMALLOC_PURGE_DELAY in cmd_score; mimalloc reads it when pyarrow loads."""
    code = (
        "import sys, matcher, matcher.cli; matcher.cli.build_parser(); "
        "print('pyarrow' in sys.modules, 'numpy' in sys.modules, callable(matcher.assess))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "True"]


def test_the_scorer_leaves_scikit_learn_unimported_when_no_fit_is_needed(own_cache):
    """One model class: importing it, or fitting it with the shipped classifier, never loads scikit-learn."""
    code = (
        "import sys, matcher, matcher.batch, matcher.cli; a = 'sklearn' in sys.modules; "
        "from matcher import Scorer; Scorer(cached_vocabulary=True).fit(); "
        "print(a, 'sklearn' in sys.modules, Scorer.__mro__[1].__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "object"]


def test_the_scorer_is_a_scikit_learn_estimator(scorer):
    from sklearn.base import clone

    from matcher.scoring import ScoringModel

    assert ScoringModel is Scorer  # the earlier name of the one class
    assert repr(Scorer(sectors_path="x.yaml")) == "Scorer(sectors_path='x.yaml')"
    assert repr(Scorer(cached_vocabulary=True)) == "Scorer(cached_vocabulary=True)"
    assert clone(Scorer(sectors_path=str(SECTORS_YAML))).get_params()["sectors_path"] == str(SECTORS_YAML)
    copy = clone(Scorer(cached_vocabulary=True))
    assert copy.get_params() == {"cached_vocabulary": True, "config": None, "sectors_path": None}
    model = Scorer()
    assert model.set_params(cached_vocabulary=True, sectors_path="y.yaml") is model
    assert (model.cached_vocabulary, model.sectors_path) == (True, "y.yaml")
    with pytest.raises(ValueError, match="Invalid parameter 'cache'"):
        model.set_params(cache=True)


def test_results_record_the_parameters_that_decide_their_numbers(own_cache, scorer):
    """The vocabulary cache changes no number: a result (and a batch summary) records the same parameters
    with or without it, so stored results and scored files stay the same whichever scorer made them."""
    from matcher import assess

    cached = Scorer(cached_vocabulary=True).fit()
    profile = {"name": "A", "okved": "62.01", "description": "smart factory automation"}
    assert assess(profile, cached).params == assess(profile, scorer).params
    assert "cached_vocabulary" not in assess(profile, cached).params
    assert cached.scoring_params() == {"config": None, "sectors_path": None}
