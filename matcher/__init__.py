"""Hanoi investor matcher: score Russian firms' profiles against Hanoi's investment priorities.

The library is plain Python (numpy, scikit-learn, pyarrow, PyYAML); the web app and the
command line both call it. Start with :func:`assess` for one profile or
:func:`matcher.batch.score_file` for a CSV file. The layers, the walk of a CSV row to a score and
the files to touch for a new criterion, sector or language: docs/architecture.md.
"""

import importlib

from .config import Config, load_sectors
from .errors import ConfigError, InputFileError, InvalidValue, MatcherError

__version__ = "0.1.0"
__all__ = [
    "Config",
    "ConfigError",
    "InputFileError",
    "InvalidValue",
    "MatcherError",
    "ScoreResult",
    "Scorer",
    "ScoringModel",
    "assess",
    "assess_many",
    "load_sectors",
    "wsm",
    "__version__",
]

#: Imported when first asked for: the scoring modules load numpy and pyarrow (and a scorer that
#: fits a sector vocabulary scikit-learn, about a second). ``matcher score`` sets up Arrow's
#: allocator before pyarrow loads and never needs scikit-learn.
_LAZY = {
    "ScoreResult": ".result",
    "assess": ".result",
    "assess_many": ".result",
    "ScoringModel": ".scoring",
    "wsm": ".scoring",
    "Scorer": ".scoring",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
