"""The app's scorer and the version string of the weights that produced a stored result."""

from __future__ import annotations

from functools import lru_cache

from matcher import Config, Scorer
from matcher.serving import MicroBatcher


def get_scorer() -> Scorer:
    """The fitted scorer of the current weights version (built once per process and version).

    Firm-submitted commitments are declared, not verified: the admin's factor for unverified
    claims applies to them (see :mod:`web.versions`).
    """
    from .versions import scorer_for

    return scorer_for()


@lru_cache(maxsize=8)
def _batcher(scorer: Scorer) -> MicroBatcher:
    return MicroBatcher(scorer)


def get_batcher() -> MicroBatcher:
    """The micro-batcher in front of the app's scorer: concurrent single profiles share a batch."""
    return _batcher(get_scorer())


def get_config() -> Config:
    """The checked ``sectors.yaml`` the app scores with."""
    return get_scorer().config_


def weights_version() -> str:
    """The label of the current weights version, e.g. ``v2 3fa1b2c4d5e6`` (number and fingerprint)."""
    from .versions import snapshot

    return snapshot().label


def okved_options() -> list[tuple[str, str]]:
    """OKVED prefixes listed in the sectors file with their sector label, for a datalist."""
    from .i18n import current_lang

    lang = current_lang()
    options = {code: sector.label.get(lang, sector.label["en"])
               for sector in get_config().sectors for code in sector.okved}
    return sorted(options.items(), key=lambda item: [int(p) if p.isdigit() else p for p in item[0].split(".")])
