"""The app's scorer and the version string of the weights that produced a stored result."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app

from matcher import Config, Scorer
from matcher.result import default_scorer
from matcher.serving import MicroBatcher


def get_scorer() -> Scorer:
    """The fitted scorer for the app's ``SECTORS_PATH`` (built once per process)."""
    path = current_app.config.get("SECTORS_PATH")
    return default_scorer(str(path) if path else None)


@lru_cache(maxsize=8)
def _batcher(scorer: Scorer) -> MicroBatcher:
    return MicroBatcher(scorer)


def get_batcher() -> MicroBatcher:
    """The micro-batcher in front of the app's scorer: concurrent single profiles share a batch."""
    return _batcher(get_scorer())


def get_config() -> Config:
    """The checked ``sectors.yaml`` the app scores with."""
    return get_scorer().config_


@lru_cache(maxsize=8)
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def weights_version() -> str:
    """``sectors.yaml v1 <sha256 prefix>``: names the exact weights file a result came from."""
    config = get_config()
    return f"{Path(config.path).name} v{config.version} {_file_digest(config.path)}"


def okved_options() -> list[tuple[str, str]]:
    """OKVED prefixes listed in the sectors file with their sector label, for a datalist."""
    from .i18n import current_lang

    lang = current_lang()
    options = {code: sector.label.get(lang, sector.label["en"])
               for sector in get_config().sectors for code in sector.okved}
    return sorted(options.items(), key=lambda item: [int(p) if p.isdigit() else p for p in item[0].split(".")])
