"""Files the library reads at run time: the project's sectors file and the sample profiles.

They live inside the package, so that an installed wheel finds them from any folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _path(name: str) -> Path:
    # A wheel installs unpacked, so the resource is a real file with a path.
    return Path(str(files(__name__) / name))


#: The project's ``sectors.yaml``: priorities, weights, keywords and sources.
SECTORS_YAML = _path("sectors.yaml")
#: 48 sample profiles in the CSV format of ``matcher score``: the web app's demo leads.
SAMPLE_PROFILES = _path("sample_profiles.csv")
#: Hanoi's parks and zones, the agencies and the match weights (``matcher.opportunities``).
OPPORTUNITIES_YAML = _path("opportunities.yaml")
#: Incentive categories as rules, each with its legal source and date (``matcher.incentives``).
INCENTIVES_YAML = _path("incentives.yaml")
