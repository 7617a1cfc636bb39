"""The shipped sector classifier's file: read it, and the digest of what it was trained on.

:mod:`matcher.sector_model` trains and writes it (scikit-learn, offline); :mod:`matcher.text`
reads it at run time. Kept apart so that reading the model never imports the trainer.
"""

from __future__ import annotations

import json
from importlib import resources

from .config import Config

#: Bump when the shipped file changes shape.
MODEL_FORMAT = 1
MODEL_FILE = "sector_model.json"
PHRASES_FILE = "sector_phrases.csv"


def load_model() -> dict | None:
    """The shipped model, or None when the package has none."""
    path = resources.files("matcher").joinpath("data", MODEL_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if data.get("format") == MODEL_FORMAT else None


def training_fingerprint(config: Config) -> str:
    """A digest of what the model learns from in ``sectors.yaml`` and the phrases (stale-model check)."""
    import hashlib

    digest = hashlib.sha256()
    # only languages with keywords count: a language added without any leaves the kept model valid
    worded = {lang for sector in config.sectors for lang, words in sector.keywords.items() if words}
    for sector in config.sectors:
        keywords = {k: list(v) for k, v in sorted(sector.keywords.items()) if k in worded}
        digest.update(json.dumps([sector.id, list(sector.okved), keywords], ensure_ascii=False).encode("utf-8"))
    digest.update(resources.files("matcher").joinpath("data", PHRASES_FILE).read_bytes())
    return digest.hexdigest()[:16]
