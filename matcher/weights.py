"""Weights as data: read, change, compare, export and fingerprint what an admin may edit.

A weights set is a plain dict (JSON-ready) of everything in ``sectors.yaml`` that staff
may tune without touching code::

    {"criteria": {criterion: weight},            # points; need not add up to 100
     "tiers": {tier: weight},                    # sector-fit sub-score of the tier, in [0, 1]
     "sector_tiers": {sector: tier},
     "shares": {field: share},                   # split of a criterion between its inputs
     "answers": {field: {answer: sub-score}},
     "thresholds": {field: [[lower bound, sub-score], ...]}}

:func:`apply_weights` checks such a dict (whole or partial) against a :class:`Config` and
returns a new frozen config; :func:`to_yaml` writes a full sectors file that
:func:`~matcher.config.load_sectors` reads back to an equal config.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import yaml

from .config import ANSWER_INPUTS, FORMAT, MAX_WEIGHT, Config, Criterion, Input, check_number, check_total
from .errors import ConfigError

SECTIONS = ("criteria", "tiers", "sector_tiers", "shares", "answers", "thresholds")
_ITEM = {
    "criteria": "criterion",
    "tiers": "tier",
    "sector_tiers": "sector",
    "shares": "input",
    "answers": "input with answers",
    "thresholds": "input with thresholds",
}


@dataclass(frozen=True)
class Change:
    """One edited value: its dotted ``key``, the ``old`` and the ``new`` value (None = absent)."""

    key: str
    old: Any
    new: Any


def weights_of(config: Config) -> dict[str, Any]:
    """Everything an admin may edit, as a JSON-ready dict.

    Parameters
    ----------
    config : Config

    Returns
    -------
    dict
        Keys ``criteria``, ``tiers``, ``sector_tiers``, ``shares``, ``answers`` and
        ``thresholds`` (see the module docstring); numbers are floats.

    Examples
    --------
    >>> from matcher.config import load_sectors
    >>> weights_of(load_sectors())["criteria"]["sector_fit"]
    30.0
    """
    inputs = [item for c in config.criteria for item in c.inputs]
    return {
        "criteria": {c.id: float(c.weight) for c in config.criteria},
        "tiers": {t: float(spec["weight"]) for t, spec in config.tiers.items()},
        "sector_tiers": {s.id: s.tier for s in config.sectors},
        "shares": {i.field: float(i.share) for i in inputs},
        "answers": {i.field: {a: float(v) for a, v in i.answers.items()} for i in inputs if i.kind == "answers"},
        "thresholds": {
            i.field: [[float(b), float(s)] for b, s in i.thresholds] for i in inputs if i.kind == "thresholds"
        },
    }


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(key, problem)


#: Admin settings of the rankings with their bounds: the robustness spread (a fraction: each
#: weight varies within ±spread), its top k and number of samples, and the factor applied to
#: unverified commitments. A spread of 1 or more would let weights turn negative.
SETTINGS: dict[str, tuple[float, float]] = {
    "spread": (0.0, 0.9),
    "top_k": (1, 1000),
    "unverified_factor": (0.0, 1.0),
    "n_samples": (100, 100_000),
}
_WHOLE = ("top_k", "n_samples")


def check_setting(key: str, value: Any) -> float | int:
    """A ranking setting checked against :data:`SETTINGS` (the same rule as for weights).

    Raises
    ------
    ConfigError
        ``code="range"`` or ``"number"``, naming the setting, e.g.
        ``spread: must be between 0 and 0.9, not 0.95``.

    Examples
    --------
    >>> check_setting("top_k", 10)
    10
    >>> check_setting("spread", 0.95)
    Traceback (most recent call last):
    matcher.errors.ConfigError: spread: must be between 0 and 0.9, not 0.95
    """
    if key not in SETTINGS:
        raise ConfigError(key, f"unknown setting; known: {', '.join(SETTINGS)}")
    number = check_number(key, value, *SETTINGS[key])
    if key in _WHOLE:
        if number != int(number):
            raise ConfigError(
                key, f"must be a whole number, not {value!r}", code="number", params={"value": repr(value)}
            )
        return int(number)
    return number


def _section(data: dict[str, Any], name: str, known: dict[str, Any]) -> dict[str, Any]:
    """The ``name`` part of ``data`` checked to be a mapping of known ids (empty if absent)."""
    part = data.get(name) or {}
    if not isinstance(part, dict):
        raise _fail(name, f"must be a mapping, not {type(part).__name__}")
    for key in part:
        if key not in known:
            raise _fail(f"{name}.{key}", f"unknown {_ITEM[name]}; known: {', '.join(map(str, known))}")
    return part


def _merged(base: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Base weights with the (checked) values of ``data`` put over them."""
    if not isinstance(data, dict):
        raise _fail("(top)", f"weights must be a mapping, not {type(data).__name__}")
    extra = set(data) - set(SECTIONS)
    if extra:
        raise _fail(sorted(extra)[0], f"unknown section; known: {', '.join(SECTIONS)}")
    out = {name: dict(base[name]) for name in SECTIONS}
    _merge_ranking(out, data, base)
    for name, value in _section(data, "shares", base["shares"]).items():
        out["shares"][name] = check_number(f"shares.{name}", value, 0.0, 1.0)
    for name, mapping in _section(data, "answers", base["answers"]).items():
        out["answers"][name] = _answers(name, mapping, base["answers"][name])
    for name, pairs in _section(data, "thresholds", base["thresholds"]).items():
        out["thresholds"][name] = _thresholds(name, pairs)
    return out


def _merge_ranking(out: dict[str, Any], data: dict[str, Any], base: dict[str, Any]) -> None:
    """Criterion weights, tier weights and sector tiers of ``data`` into ``out``."""
    for cid, value in _section(data, "criteria", base["criteria"]).items():
        out["criteria"][cid] = check_number(f"criteria.{cid}", value, 0.0, MAX_WEIGHT)
    check_total("criteria", out["criteria"].values())
    for tier, value in _section(data, "tiers", base["tiers"]).items():
        out["tiers"][tier] = check_number(f"tiers.{tier}", value, 0.0, 1.0)
    for sid, tier in _section(data, "sector_tiers", base["sector_tiers"]).items():
        if not isinstance(tier, str) or tier not in base["tiers"]:
            raise _fail(f"sector_tiers.{sid}", f"unknown tier {tier!r}; known: {', '.join(base['tiers'])}")
        out["sector_tiers"][sid] = tier


def _answers(name: str, mapping: Any, base: dict[str, float]) -> dict[str, float]:
    if not isinstance(mapping, dict):
        raise _fail(f"answers.{name}", "must map each answer to a sub-score")
    out = dict(base)
    for answer, value in mapping.items():
        answer = {True: "yes", False: "no"}.get(answer, answer) if isinstance(answer, bool) else answer
        if answer not in ANSWER_INPUTS[name]:
            raise _fail(f"answers.{name}.{answer}", f"unknown answer; expected {', '.join(ANSWER_INPUTS[name])}")
        out[answer] = check_number(f"answers.{name}.{answer}", value, 0.0, 1.0)
    return out


def _thresholds(name: str, pairs: Any) -> list[list[float]]:
    key = f"thresholds.{name}"
    if not isinstance(pairs, (list, tuple)) or not pairs:
        raise _fail(key, "must list at least one [lower bound, sub-score]")
    out: list[list[float]] = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _fail(f"{key}.{i}", "must be a pair [lower bound, sub-score]")
        bound, sub = check_number(f"{key}.{i}", pair[0], -math.inf), check_number(f"{key}.{i}", pair[1], 0.0, 1.0)
        if out and bound <= out[-1][0]:
            raise _fail(f"{key}.{i}", "lower bounds must increase")
        out.append([bound, sub])
    return out


def _criterion(criterion: Criterion, merged: dict[str, Any]) -> Criterion:
    inputs = []
    for item in criterion.inputs:
        changes: dict[str, Any] = {"share": merged["shares"][item.field]}
        if item.kind == "answers":
            changes["answers"] = dict(merged["answers"][item.field])
        elif item.kind == "thresholds":
            changes["thresholds"] = tuple((b, s) for b, s in merged["thresholds"][item.field])
        inputs.append(replace(item, **changes))
    total = sum(i.share for i in inputs)
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        fields = ", ".join(f"shares.{i.field}" for i in inputs)
        raise _fail(fields, f"the shares of criterion {criterion.id!r} must add up to 1, not {total:g}")
    return Criterion(criterion.id, merged["criteria"][criterion.id], criterion.label, tuple(inputs), criterion.source)


def apply_weights(config: Config, data: dict[str, Any]) -> Config:
    """A new config with the weights of ``data`` (all of :func:`weights_of` or any part of it).

    Parameters
    ----------
    config : Config
        The config to start from; it is not changed.
    data : dict
        Sections of :func:`weights_of`; a section or key left out keeps its value.

    Returns
    -------
    Config
        A new frozen config.

    Raises
    ------
    ConfigError
        Naming the key at fault, e.g. ``tiers.general: must be between 0 and 1, not 2``.
    """
    merged = _merged(weights_of(config), data)
    tiers = {t: {**spec, "weight": merged["tiers"][t]} for t, spec in config.tiers.items()}
    sectors = tuple(
        replace(s, tier=merged["sector_tiers"][s.id], tier_weight=merged["tiers"][merged["sector_tiers"][s.id]])
        for s in config.sectors
    )
    criteria = tuple(_criterion(c, merged) for c in config.criteria)
    return config.replace(tiers=tiers, sectors=sectors, criteria=criteria)


def _flatten(weights: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section in SECTIONS:
        for key, value in (weights.get(section) or {}).items():
            if section == "answers":
                flat.update({f"answers.{key}.{a}": v for a, v in value.items()})
            else:
                flat[f"{section}.{key}"] = value
    return flat


def diff_weights(a: Config | dict[str, Any], b: Config | dict[str, Any]) -> list[Change]:
    """The values that differ between two weight sets (configs or :func:`weights_of` dicts).

    Returns
    -------
    list of Change
        In section order; ``old`` or ``new`` is None where a key exists on one side only.

    Examples
    --------
    >>> diff_weights({"criteria": {"x": 1.0}}, {"criteria": {"x": 2.0}})
    [Change(key='criteria.x', old=1.0, new=2.0)]
    """
    old = _flatten(weights_of(a) if isinstance(a, Config) else a)
    new = _flatten(weights_of(b) if isinstance(b, Config) else b)
    keys = list(old) + [k for k in new if k not in old]
    return [Change(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def fingerprint(config: Config | dict[str, Any]) -> str:
    """A stable 12-hex-digit hash of the weights, usable as a version id.

    Only what :func:`weights_of` returns counts: labels, sources and key order do not.
    """
    weights = weights_of(config) if isinstance(config, Config) else config
    text = json.dumps(weights, sort_keys=True, separators=(",", ":"), default=float)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _input_data(item: Input) -> dict[str, Any]:
    if item.kind == "sector":
        return {"share": item.share, "kind": "sector"}
    data: dict[str, Any] = {"share": item.share}
    if item.kind == "answers":
        data["answers"] = dict(item.answers)
    else:
        data["thresholds"] = [list(pair) for pair in item.thresholds]
    if item.advice:
        data["advice"] = dict(item.advice)
    return data


def to_data(config: Config) -> dict[str, Any]:
    """The whole config as the plain data of a sectors file (what ``yaml.safe_load`` would give)."""
    return {
        "format": FORMAT,
        "version": config.version,
        "sources": {k: dict(v) for k, v in config.sources.items()},
        "tiers": {
            t: {"weight": s["weight"], "label": dict(s["label"]), "source": dict(s["source"])}
            for t, s in config.tiers.items()
        },
        "sectors": {s.id: _sector_data(s) for s in config.sectors},
        "criteria": {
            c.id: {
                "weight": c.weight,
                "label": dict(c.label),
                "source": dict(c.source),
                "inputs": {i.field: _input_data(i) for i in c.inputs},
            }
            for c in config.criteria
        },
        "bands": [_band_data(b) for b in config.bands],
        "detection": {"min_confidence": config.min_confidence},
    }


def _sector_data(sector) -> dict[str, Any]:
    data = {
        "tier": sector.tier,
        "label": dict(sector.label),
        "okved": list(sector.okved),
        "keywords": {lang: list(words) for lang, words in sector.keywords.items()},
        "source": dict(sector.source),
    }
    if sector.refines:
        data["refines"] = list(sector.refines)
    return data


def _band_data(band) -> dict[str, Any]:
    data = {"band": band.name, "min": band.min, "label": dict(band.label)}
    if band.min_tier is not None:
        data.update(min_tier=band.min_tier, source=dict(band.source))
    return data


def to_yaml(config: Config) -> str:
    """A full sectors file for ``config``; :func:`~matcher.config.load_sectors` reads it back equal.

    Examples
    --------
    >>> from matcher.config import load_sectors
    >>> config = load_sectors()
    >>> load_sectors(text=to_yaml(config)).replace(path="") == config.replace(path="")
    True
    """
    head = (
        f"# Exported by `matcher weights export`; weights fingerprint {fingerprint(config)}.\n"
        "# Check it with `matcher weights validate FILE`.\n"
    )
    body = yaml.safe_dump(to_data(config), allow_unicode=True, sort_keys=False, width=110)
    return head + body


#: The first line of data in a weights file exported by the web app (:func:`weights_file`).
WEIGHTS_FORMAT = "hanoi-matcher-weights/1"


@dataclass(frozen=True)
class WeightsFile:
    """A weights version as the web app exports it: its weights and how unverified claims count.

    ``unverified_fields`` are the commitments whose answer sub-scores are multiplied by
    ``unverified_factor`` (the app scores firm-declared commitments so); ``label`` and
    ``fingerprint`` name the version.
    """

    weights: dict[str, Any]
    label: str = ""
    fingerprint: str = ""
    unverified_factor: float = 1.0
    unverified_fields: tuple[str, ...] = ()

    def apply(self, config: Config) -> Config:
        """``config`` with these weights and the factor for unverified claims applied.

        Raises
        ------
        ConfigError
            When the weights do not fit ``config`` (another sectors file), or the result's
            fingerprint is not the one the file records.
        """
        out = apply_weights(config, self.weights)
        if self.fingerprint and fingerprint(out) != self.fingerprint:
            raise ConfigError(
                "fingerprint",
                f"the weights give fingerprint {fingerprint(out)}, not the "
                f"{self.fingerprint} the file records (another sectors file?)",
            )
        return scale_answers(out, self.unverified_fields, self.unverified_factor)


def scale_answers(config: Config, fields: Iterable[str], factor: float) -> Config:
    """``config`` with the answer sub-scores of ``fields`` multiplied by ``factor`` (unchanged at 1)."""
    fields = tuple(fields)
    if factor == 1.0 or not fields:
        return config
    answers = weights_of(config)["answers"]
    return apply_weights(config, {"answers": {f: {a: v * factor for a, v in answers[f].items()} for f in fields}})


def weights_file(version: WeightsFile) -> str:
    """A weights version as YAML text: what the app's export gives and ``matcher score --weights`` reads.

    Examples
    --------
    >>> from matcher.config import load_sectors
    >>> exported = WeightsFile(weights_of(load_sectors()), "v1", "", 0.5, ("training",))
    >>> read_weights_file(text=weights_file(exported)) == exported
    True
    """
    head = (
        f"# Weights version {version.label or '(unnamed)'} of the Hanoi investor matcher.\n"
        "# Score a file with it: matcher score IN.csv -o OUT.csv --weights THIS_FILE\n"
    )
    data = {
        "format": WEIGHTS_FORMAT,
        "version": version.label,
        "fingerprint": version.fingerprint,
        "unverified": {"factor": float(version.unverified_factor), "fields": list(version.unverified_fields)},
        "weights": {name: version.weights.get(name, {}) for name in SECTIONS},
    }
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def read_weights_file(path: str | None = None, text: str | None = None) -> WeightsFile:
    """Read a weights file written by :func:`weights_file` (a path, or its ``text``).

    Raises
    ------
    ConfigError
        For a file that is no weights export, naming the key at fault.
    OSError
        When the file cannot be read.
    """
    if text is None:
        with open(path or "", encoding="utf-8") as handle:
            text = handle.read()
    where = str(path or "")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("(file)", f"not YAML: {exc}".splitlines()[0], path=where) from None
    if not isinstance(data, dict) or data.get("format") != WEIGHTS_FORMAT:
        raise ConfigError(
            "format", f"not a weights file exported by the app (expected format: {WEIGHTS_FORMAT})", path=where
        )
    unverified = data.get("unverified") or {}
    if not isinstance(unverified, dict) or not isinstance(data.get("weights"), dict):
        raise ConfigError("weights" if isinstance(unverified, dict) else "unverified", "must be a mapping", path=where)
    fields = unverified.get("fields") or []
    if not isinstance(fields, list) or any(f not in ANSWER_INPUTS for f in fields):
        raise ConfigError("unverified.fields", f"must list answer inputs of: {', '.join(ANSWER_INPUTS)}", path=where)
    factor = check_number("unverified.factor", unverified.get("factor", 1.0), 0.0, 1.0)
    return WeightsFile(
        dict(data["weights"]),
        str(data.get("version") or ""),
        str(data.get("fingerprint") or ""),
        float(factor),
        tuple(fields),
    )
