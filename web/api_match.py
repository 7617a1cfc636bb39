"""``POST /api/v1/match``: where in Hanoi, which incentives, whom to meet, for one profile (public, JSON).

The route joins the API blueprint of :mod:`web.api` (same prefix, same error format, CSRF-exempt,
rate-limited with the public scoring endpoints); :func:`web.register_blueprints` imports this module
before the blueprint is registered. Its OpenAPI description is :func:`web.openapi.match_path`.
"""

from __future__ import annotations

from flask import jsonify

import matcher

from .api import api_lang, as_cells, bp, invalid_json, json_body, object_expected
from .errors import error_response
from .inputs import int_arg

#: Matches of each list (places, partners) at most.
MAX_K = 10


@bp.post("/match")
def match():
    """Match one profile (a JSON object) to parks, projects and partners, and judge the incentive rules."""
    from .opportunities import current_matcher

    body = json_body()
    if not isinstance(body, dict):
        return object_expected(body)
    from . import services

    k, lang = int_arg("k", 3, 1, MAX_K), api_lang()
    try:
        cells = as_cells(body)
    except matcher.InvalidValue as exc:
        return error_response(400, str(exc), exc.field, **invalid_json(exc, lang))
    result = current_matcher().match_profiles([services.clean_profile(cells)], k=k, lang=lang, k_partners=k)[0]
    if isinstance(result, matcher.InvalidValue):
        return error_response(400, str(result), result.field, **invalid_json(result, lang))
    return jsonify(result.to_dict())
