"""Hanoi investor matcher: score Russian firms' profiles against Hanoi's investment priorities.

The library is plain Python (numpy, scikit-learn, pyarrow, PyYAML); the web app and the
command line both call it. Start with :func:`assess` for one profile or
:func:`matcher.batch.score_file` for a CSV file.
"""

from .config import Config, load_sectors
from .errors import ConfigError, InputFileError, InvalidValue, MatcherError
from .result import ScoreResult, assess, assess_many
from .scoring import ScoringModel, wsm

__version__ = "0.1.0"
__all__ = [
    "Config", "ConfigError", "InputFileError", "InvalidValue", "MatcherError", "ScoreResult",
    "Scorer", "ScoringModel", "assess", "assess_many", "load_sectors", "wsm", "__version__",
]


def __getattr__(name: str):
    """``matcher.Scorer``, the scikit-learn estimator: imported only when asked for, as scikit-learn
    takes about a second to import and ``matcher score`` does without it."""
    if name == "Scorer":
        from .estimator import Scorer

        return Scorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
