"""Train the linear sector classifier and write ``matcher/data/sector_model.json``.

Usage::

    python tools/train_sector_model.py            # fit on everything, write the model
    python tools/train_sector_model.py --cv       # also print held-out accuracy per C

Deterministic: the same inputs give the same file (lbfgs, no random state involved; weights
rounded to 4 decimals). Run it again whenever ``sectors.yaml`` (sectors, codes, keywords), the
classifications or ``matcher/data/sector_phrases.csv`` change; ``tests/test_sector_model.py``
fails while the shipped model is stale.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from matcher.config import load_sectors
from matcher.sector_model import (
    MODEL_FILE,
    cross_validate,
    display_forms,
    fit,
    keyword_phrases,
    keyword_terms,
    to_json,
    training_examples,
)

OUT = Path(__file__).resolve().parent.parent / "matcher" / "data" / MODEL_FILE
C = 4.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv", action="store_true", help="print 5-fold accuracy per language for a few C")
    parser.add_argument("-c", type=float, default=C, help=f"inverse regularisation (default {C})")
    args = parser.parse_args(argv)
    config = load_sectors()
    examples = training_examples(config)
    phrases = keyword_phrases(config)
    if args.cv:
        for c in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
            print(c, cross_validate(examples, config.sector_ids, c=c, phrases=phrases))
    model = to_json(
        *fit(examples, config.sector_ids, c=args.c, phrases=phrases),
        config.sector_ids,
        display_forms(examples),
        keep=keyword_terms(config),
    )
    model["fingerprint"] = fingerprint_of(config)
    OUT.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(model['terms'])} terms from {len(examples)} examples")
    return 0


def fingerprint_of(config) -> str:
    from matcher.sector_model import training_fingerprint

    return training_fingerprint(config)


if __name__ == "__main__":
    raise SystemExit(main())
