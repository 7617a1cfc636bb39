"""The scikit-learn estimator of the weighted model.

:class:`Scorer` is :class:`matcher.scoring.ScoringModel` with scikit-learn's
``BaseEstimator`` for ``get_params``, ``set_params`` and ``repr`` (scikit-learn's estimator API). It lives in
a module of its own so that importing :mod:`matcher` does not import scikit-learn.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator

from .scoring import ScoringModel


class Scorer(BaseEstimator, ScoringModel):
    """Score profile batches with the weights of a sectors file.

    Parameters
    ----------
    sectors_path : str, optional
        The sectors file; the project's ``sectors.yaml`` by default.
    config : Config, optional
        An already loaded configuration (wins over ``sectors_path``), e.g. a stored
        weights version.

    Examples
    --------
    >>> Scorer().fit().config_.criteria[0].id
    'sector_fit'
    """

    # Every fit builds its sector vocabulary with scikit-learn, as an estimator's fit should.
    _cached_vocabulary = False
