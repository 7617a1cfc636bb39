"""The app's scorer and the version string of the weights that produced a stored result."""

from __future__ import annotations

from matcher import Config, Scorer


def get_scorer() -> Scorer:
    """The fitted scorer of the current weights version (built once per process and version).

    Firm-submitted commitments are declared, not verified: the admin's factor for unverified
    claims applies to them (see :mod:`web.versions`).
    """
    from flask import g, has_app_context

    from .versions import current_scorer, scorer_for

    if not has_app_context():
        return scorer_for()
    if "scorer" not in g:  # labels ask for it many times a page: looked up once per request (or job)
        g.scorer = current_scorer()
    return g.scorer


def get_config() -> Config:
    """The checked ``sectors.yaml`` the app scores with."""
    return get_scorer().config_


def weights_version() -> str:
    """The label of the current weights version, e.g. ``v2 3fa1b2c4d5e6`` (number and fingerprint)."""
    from .versions import snapshot

    return snapshot().label


def okved_options(lang: str) -> list[tuple[str, str]]:
    """OKVED prefixes listed in the sectors file with their sector label in ``lang``, for a datalist."""
    options = {
        code: sector.label.get(lang, sector.label["en"]) for sector in get_config().sectors for code in sector.okved
    }
    return sorted(options.items(), key=lambda item: [int(p) if p.isdigit() else p for p in item[0].split(".")])


def okved_index():
    """The OKVED 2 code list with titles and sectors of the app's sectors file (built once per process)."""
    from flask import current_app

    from matcher.okved import default_index

    return default_index(current_app.config.get("SECTORS_PATH"))


def okved_warnings(okved: object, lang: str = "en") -> list[dict]:
    """A warning per well-formed OKVED code that no classification lists (``99.99.99``); scoring is unchanged."""
    from matcher.messages import message

    if not okved:
        return []
    return [
        {"field": "okved", "reason": "unknown_code", "code": code, "message": message(lang, "unknown_code", code=code)}
        for code in _unknown_codes(okved_index(), str(okved))
    ]


#: The longest typed OKVED field whose unknown codes are kept (a firm's usual few codes are far shorter).
LONG_OKVED = 1000


def _unknown_codes(index, okved: str) -> tuple[str, ...]:
    """The well-formed codes of a typed field that ``index`` does not list (a few distinct fields recur:
    kept by the app's state, ``unknown_codes``).

    A field longer than :data:`LONG_OKVED` characters is read afresh each time (reading is linear) and
    not kept: the cache counts entries, not bytes, and distinct multi-megabyte fields would fill it."""
    from .appstate import app_state

    if len(okved) > LONG_OKVED:
        return index.split(okved).unknown
    return app_state().unknown_codes.get_or_build((index, okved), lambda: index.split(okved).unknown)


def sector_choices(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The sectors for the form's picker, grouped by tier (highest first), labels in ``lang``."""
    config = get_config()
    groups = []
    for tier_id, tier in sorted(config.tiers.items(), key=lambda item: -item[1]["weight"]):
        items = sorted(
            ((s.id, s.label.get(lang, s.label["en"])) for s in config.sectors if s.tier == tier_id),
            key=lambda item: item[1].casefold(),
        )
        if items:
            groups.append((tier["label"].get(lang, tier["label"]["en"]), items))
    return groups
