"""Helpers shared by the matcher tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTORS_YAML = ROOT / "matcher" / "data" / "sectors.yaml"
SAMPLE_CSV = ROOT / "matcher" / "data" / "sample_profiles.csv"

#: A complete profile (every contract field given); tests override what they look at.
#: Its hand-worked score is in tests/test_scoring.py (test_full_worked_example).
BASE_PROFILE = {
    "id": "T-1",
    "name": "ООО «Тест»",
    "description": "We develop business software",
    "okved": "62.01",
    "sectors": "",
    "investment_usd": "2m",
    "employees": "120",
    "tech_transfer": "none",
    "training": "committed",
    "local_partner": "planned",
    "green": "planned",
    "esg_report": "yes",
    "vietnam_presence": "office",
    "website": "https://test.example",
    "contact_email": "info@test.example",
    "city": "Moscow",
}


def build_profile(**overrides):
    """``BASE_PROFILE`` with ``overrides``; an override of ``None`` drops the field."""
    profile = dict(BASE_PROFILE)
    for key, value in overrides.items():
        if value is None:
            profile.pop(key, None)
        else:
            profile[key] = value
    return profile


def read_csv(path, encoding="utf-8"):
    """All rows of a CSV file as lists of strings (header first)."""
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def distinct_codes(n: int) -> list[str]:
    """``n`` distinct well-formed OKVED codes (``01.10.10``, ``01.10.11``...), as a hostile probe sent them."""
    from matcher.values import VALID_DIVISIONS

    out = []
    for division in sorted(VALID_DIVISIONS):
        for group in range(10, 100):
            for item in range(10, 100):
                out.append(f"{division}.{group}.{item}")
                if len(out) == n:
                    return out
    raise ValueError(n)
