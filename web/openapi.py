"""The OpenAPI 3 document of ``/api/v1`` (kept beside the views it describes).

The request schemas say what the server accepts: every value they allow is scored (the
schema-driven fuzz test in ``tests/web/test_fuzz_api.py`` checks that), and the descriptions
name the further spellings the readers of :mod:`matcher.values` also take.
"""

from __future__ import annotations

import matcher
from matcher.fields import LANGS, REGISTRY
from matcher.messages import REASONS
from matcher.values import ACCEPTED_WORDS, VALID_DIVISIONS

from .inputs import API_FIELD_LIMIT
from .models import SOURCES, STATUSES

#: Whitespace as Python, Arrow and ECMAScript regular expressions count it (a name needs one other character).
#: Letters and digits of the scripts the firms write in (Latin with its accented and Vietnamese letters,
#: Cyrillic): a name holding one of them is read. A name must hold a letter or digit one can see; those of
#: other scripts count too, but no regular expression both JSON Schema (ECMA 262) and Python read can say
#: "any letter", so the document promises these, and the API takes more.
_NAME_LETTER = r"[0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0400-\u0481\u048a-\u04ff\u1ea0-\u1ef9]"
_DIVISION = "(?:" + "|".join(sorted(VALID_DIVISIONS)) + ")"
_CODE = _DIVISION + r"(?:\.[0-9]{1,2}(?:\.[0-9]{1,2})?)?"
#: OKVED 2 / NACE Rev. 2 codes separated by ``;``, ``,`` or spaces (matcher.values.parse_codes reads more).
OKVED_PATTERN = rf"^[ ;,]*(?:{_CODE}(?:[ ;,]+{_CODE})*[ ;,]*)?$"
#: Amounts such as 1500000, 1 500 000, 1,500,000.5, 1.5m or 2 bn (the reader also takes other spellings).
MONEY_PATTERN = (
    r"^(?:[0-9]{1,15}|[0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,3}(?: [0-9]{3}){1,4})(?:\.[0-9]{1,6})?"
    r"(?: ?(?:k|m|mn|bn|million|billion))?$"
)


_CHECK = {"type": "string", "enum": ["ok", "not configured", "unreachable"]}
_READY = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "unavailable"]},
        "checks": {"type": "object", "properties": {"database": _CHECK, "redis": _CHECK}},
    },
}


def _words(kind: str) -> list[str]:
    return ["", *sorted(ACCEPTED_WORDS[kind])]


def _kind_schemas() -> dict[str, dict]:
    """The request schema of each field kind of the registry (matcher/fields.py)."""
    return {
        "key": {
            "oneOf": [{"type": "string", "nullable": True}, {"type": "integer"}],
            "description": "your own key, passed through",
        },
        "name": {
            "type": "string",
            "pattern": _NAME_LETTER,
            "description": "the firm's name (required): it must hold a letter or digit, of any script",
        },
        "codes": {
            "oneOf": [
                {"type": "string", "pattern": OKVED_PATTERN, "nullable": True},
                {"type": "array", "items": {"type": "string", "pattern": f"^{_CODE}$"}},
            ],
            "description": "OKVED 2 / NACE Rev. 2 codes: '62.01; 26.3' or a list",
        },
        "sectors": {
            "oneOf": [{"type": "string", "nullable": True}, {"type": "array", "items": {"type": "string"}}],
            "description": "sector ids or free words, ';'-separated, or a list",
        },
        "money": {
            "oneOf": [{"type": "number", "minimum": 0, "nullable": True}, {"type": "string", "pattern": MONEY_PATTERN}],
            "description": "planned investment in US$: 1500000, '1 500 000', '1,500,000', '1.5m', '2bn' "
            "(also 'USD 2m', '1.000.000', '1,5 млн', '2 tỷ')",
        },
        "count": {
            "oneOf": [
                {"type": "integer", "minimum": 0, "maximum": 10**9, "nullable": True},
                {"type": "string", "pattern": "^[0-9]{1,9}$"},
            ]
        },
        "commitment": {
            "oneOf": [{"type": "boolean", "nullable": True}, {"type": "string", "enum": _words("commitment")}],
            "description": "committed, planned or none; also yes/no, да/нет, có/không, "
            "true/false, 1/0 in any case; empty or null = unknown",
        },
        "yesno": {
            "oneOf": [{"type": "boolean", "nullable": True}, {"type": "string", "enum": _words("yesno")}],
            "description": "yes/no in English, Russian or Vietnamese, any case",
        },
        "presence": {
            "type": "string",
            "enum": [None, *_words("presence")],
            "nullable": True,
            "description": "none, office or project (also in Russian or Vietnamese), any case",
        },
    }


def _limited(schema: dict, limit: int) -> dict:
    """``schema`` with ``maxLength: limit`` on its string forms (the API refuses a longer value: ``too_long``)."""
    if "oneOf" in schema:
        return {**schema, "oneOf": [_limited(s, limit) for s in schema["oneOf"]]}
    return {**schema, "maxLength": limit} if schema.get("type") == "string" else dict(schema)


def _profile_schema() -> dict:
    kinds = _kind_schemas()
    text = {"type": "string", "nullable": True}
    props: dict[str, dict] = {f.name: _limited(kinds.get(f.kind, text), API_FIELD_LIMIT) for f in REGISTRY}
    return {
        "type": "object",
        "required": ["name"],
        "properties": props,
        "additionalProperties": True,
        "description": "Unknown keys are kept and ignored by the scoring. Header-style spellings of the "
        "fields ('Name', 'company', 'e-mail') are read as those fields.",
        "example": {
            "name": "Volga Robotics",
            "description": "Industrial robots and automation lines",
            "okved": "28.99",
            "investment_usd": "2m",
            "training": "committed",
        },
    }


def _result_schema() -> dict:
    number = {"type": "number"}
    string = {"type": "string"}
    nullable = {"type": "string", "nullable": True}
    contribution = {
        "type": "object",
        "required": ["criterion", "label", "weight", "subscore", "points"],
        "properties": {
            "criterion": string,
            "label": string,
            "weight": number,
            "subscore": {**number, "minimum": 0, "maximum": 1},
            "points": number,
        },
    }
    sector = {
        "type": "object",
        "required": ["sector", "source", "evidence"],
        "properties": {
            "sector": string,
            "source": {"type": "string", "enum": ["okved", "declared", "description", "default"]},
            "evidence": {"type": "array", "items": string},
            "keywords": {"type": "array", "items": string},
            "share": {
                **number,
                "minimum": 0,
                "maximum": 1,
                "description": "the sector's share of the firm; a firm's shares add up to 1, main sector first",
            },
        },
    }
    suggestion = {"type": "object", "required": ["code", "title"], "properties": {"code": string, "title": string}}
    improvement = {
        "type": "object",
        "required": ["field", "advice", "gain"],
        "properties": {"field": string, "advice": string, "gain": number},
    }
    props = {
        "name": string,
        "score": {**number, "minimum": 0, "maximum": 100},
        "band": string,
        "band_label": string,
        "sector": nullable,
        "sector_label": nullable,
        "tier": nullable,
        "contributions": {"type": "array", "items": contribution},
        "sectors": {"type": "array", "items": sector},
        "missing": {"type": "array", "items": string},
        "completeness": {**number, "minimum": 0, "maximum": 1},
        "improvements": {"type": "array", "items": improvement},
        "explanation": string,
        "lang": {"type": "string", "enum": list(LANGS)},
        "weights_version": string,
        "sector_confidence": {**number, "minimum": 0, "maximum": 1},
        "sector_uncertain": {
            "type": "boolean",
            "description": "no known code, no declared sector and the "
            "description below the confidence threshold: the sector is a placeholder",
        },
        "okved_suggested": {
            "type": "array",
            "maxItems": 3,
            "items": suggestion,
            "description": "OKVED 2 classes the description reads like, best first; only for a "
            "profile with no code that maps to a sector",
        },
    }
    required = list(props)
    props["id"] = {
        "type": "string",
        "description": "the profile's own 'id' (the data contract's caller key), as text, when it gave one: "
        "to match results to profiles without relying on their order",
    }
    props["warnings"] = {
        "type": "array",
        "items": _warning_schema(),
        "description": "on POST /score and each result of /score/batch: what was read but not used, e.g. an OKVED code "
        "that does not exist (99.99.99); the score is given all the same",
    }
    return {"type": "object", "required": required, "properties": props}


def _warning_schema() -> dict:
    string = {"type": "string"}
    return {
        "type": "object",
        "required": ["field", "reason", "message"],
        "properties": {
            "field": string,
            "reason": {"type": "string", "enum": ["unknown_code"]},
            "code": string,
            "message": {**string, "description": "in the language of the response"},
        },
    }


def _okved_schema() -> dict:
    item = {
        "type": "object",
        "required": ["code", "title", "sector"],
        "properties": {
            "code": {"type": "string", "description": "dotted OKVED 2 / NACE Rev. 2 code"},
            "title": {
                "type": "string",
                "description": "in `lang`: Russian from OKVED 2, English from NACE Rev. 2, "
                "Vietnamese from VSIC 2007 where it names the same thing "
                "(else English)",
            },
            "sector": {
                "type": "string",
                "nullable": True,
                "description": "the sector id the code maps to; null when its classes span several",
            },
        },
    }
    return {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "maxItems": 50, "items": item}},
    }


def _error_schema() -> dict:
    return {
        "type": "object",
        "required": ["error", "field"],
        "properties": {
            "error": {"type": "string", "minLength": 1},
            "field": {
                "type": "string",
                "nullable": True,
                "minLength": 1,
                "description": "the profile field at fault; null when no one field is",
            },
            "reason": {"type": "string", "description": "a value that cannot be read: why, in English"},
            "reason_code": {
                "type": "string",
                "nullable": True,
                "enum": [*REASONS, None],
                "description": "a value that cannot be read: the reason's code, the same in every language",
            },
            "message": {"type": "string", "description": "a value that cannot be read: why, in `lang`"},
        },
    }


def _lead_schema() -> dict:
    nullable_number = {"type": "number", "nullable": True}
    stamp = {"type": "string", "format": "date-time"}
    history = {
        "type": "object",
        "properties": {
            "score": {"type": "number"},
            "band": {"type": "string"},
            "weights_version": {"type": "string", "nullable": True},
            "created_at": stamp,
        },
    }
    note = {
        "type": "object",
        "properties": {"body": {"type": "string"}, "author": {"type": "string", "nullable": True}, "created_at": stamp},
    }
    return {
        "type": "object",
        "required": ["id", "name", "status", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "score": nullable_number,
            "band": {"type": "string", "nullable": True},
            "sector": {"type": "string", "nullable": True},
            "completeness": nullable_number,
            "status": {"type": "string", "enum": list(STATUSES)},
            "source": {"type": "string"},
            "assigned_to": {"type": "string", "nullable": True},
            "sectors": {
                "type": "array",
                "description": "every sector detected in the latest assessment, main first",
                "items": {
                    "type": "object",
                    "properties": {"sector": {"type": "string"}, "share": nullable_number, "main": {"type": "boolean"}},
                },
            },
            "created_at": stamp,
            "updated_at": stamp,
            "profile": {
                "type": "object",
                "additionalProperties": True,
                "description": "only on GET /leads/{lead_id}: the stored profile",
            },
            "assessment": {
                "type": "object",
                "nullable": True,
                "additionalProperties": True,
                "description": "only on GET /leads/{lead_id}: the latest breakdown",
            },
            "history": {"type": "array", "items": history, "description": "only on GET /leads/{lead_id}"},
            "notes": {"type": "array", "items": note, "description": "only on GET /leads/{lead_id}"},
        },
    }


def _json(ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _error(description: str) -> dict:
    return _json("#/components/schemas/Error", description)


def _lang_param() -> dict:
    return {
        "name": "lang",
        "in": "query",
        "schema": {"type": "string", "enum": list(LANGS)},
        "description": "language of labels and explanations (default: Accept-Language, else en)",
    }


def _scoring_errors() -> dict:
    return {
        "400": _error("invalid input; `field` names the field at fault"),
        "429": _error("too many scoring requests from this address; see Retry-After"),
        "503": _error("the database is not reachable right now; try again later"),
    }


def _lead_errors() -> dict:
    return {
        "401": _error("missing or invalid API token"),
        "503": _error("the database is not reachable right now; try again later"),
    }


def _paths() -> dict:
    filters = [
        {"name": n, "in": "query", "schema": {"type": t}}
        for n, t in (
            ("sector", "string"),
            ("band", "string"),
            ("status", "string"),
            ("q", "string"),
            ("min_completeness", "number"),
            ("sort", "string"),
            ("dir", "string"),
            ("page", "integer"),
            ("per_page", "integer"),
        )
    ]
    filters[7]["description"] = "page by number (OFFSET: slower the further down the list); prefer `after`"
    filters[0]["description"] = "a sector id: leads with it as main or secondary sector"
    filters[3]["description"] = (
        "words that must all occur in name, description, OKVED, city, e-mail, website, "
        "INN or OGRN, ignoring case and accents (dien tu finds điện tử)"
    )
    filters += [
        {
            "name": "source",
            "in": "query",
            "schema": {"type": "string", "enum": list(SOURCES)},
            "description": "where the lead came from",
        },
        {
            "name": "mine",
            "in": "query",
            "schema": {"type": "string", "enum": ["1"]},
            "description": "only leads assigned to the token's user",
        },
        {
            "name": "verified",
            "in": "query",
            "schema": {"type": "string", "enum": ["1"]},
            "description": "only leads that state a commitment and have every stated one verified",
        },
        {
            "name": "after",
            "in": "query",
            "schema": {"type": "string"},
            "description": "the `next` cursor of a page: the page after it (same filters and order); "
            "pages by cursor cost the same however far down the list, `page` does not",
        },
        {
            "name": "before",
            "in": "query",
            "schema": {"type": "string"},
            "description": "the `prev` cursor of a page: the page before it",
        },
    ]
    facets = {
        "name": "facets",
        "in": "query",
        "schema": {"type": "string", "enum": ["sector"]},
        "description": "`sector` adds `facets.sector`: leads per detected sector under the other filters",
    }
    profiles = {"type": "array", "maxItems": 1000, "items": {"$ref": "#/components/schemas/Profile"}}
    return {
        "/score": {
            "post": {
                "summary": "Score one profile",
                "operationId": "score",
                "parameters": [_lang_param()],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Profile"}}},
                },
                "responses": {
                    "200": _json("#/components/schemas/Result", "the score and its explanation"),
                    **_scoring_errors(),
                    "413": _error("the body is larger than the upload limit"),
                },
            }
        },
        "/score/batch": {
            "post": {
                "summary": "Score a list of profiles (at most 1000)",
                "operationId": "scoreBatch",
                "parameters": [_lang_param()],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    profiles,
                                    {"type": "object", "required": ["profiles"], "properties": {"profiles": profiles}},
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "one item per profile, in order: a result or an error",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["results", "scored", "errors"],
                                    "properties": {
                                        "results": {
                                            "type": "array",
                                            "items": {
                                                "oneOf": [
                                                    {"$ref": "#/components/schemas/Result"},
                                                    {"$ref": "#/components/schemas/ItemError"},
                                                ]
                                            },
                                        },
                                        "scored": {"type": "integer"},
                                        "errors": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    **_scoring_errors(),
                    "413": _error("more than 1000 profiles, or a body larger than the upload limit"),
                },
            }
        },
        "/okved": {
            "get": {
                "summary": "Look up OKVED 2 codes by code prefix or title words (for suggestions as one types)",
                "operationId": "okved",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "a code or its start ('28.9', '28,99', '2899', 'ОКВЭД 62') or words of titles "
                        "in any of the three languages, matched at word starts, case and accents ignored",
                    },
                    _lang_param(),
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer"},
                        "description": "at most this many results (1-50, default 10)",
                    },
                ],
                "responses": {
                    "200": _json("#/components/schemas/OkvedResults", "matching codes, broadest first"),
                    "429": _error("too many look-ups from this address; see Retry-After"),
                },
            }
        },
        "/health": {
            "get": {
                "summary": "Liveness check",
                "operationId": "health",
                "responses": {
                    "200": {
                        "description": "the app is up",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"status": {"type": "string"}}}
                            }
                        },
                    }
                },
            }
        },
        "/ready": {
            "get": {
                "summary": "Readiness check: the database answers, and Redis when REDIS_URL is set",
                "operationId": "ready",
                "responses": {
                    code: {"description": text, "content": {"application/json": {"schema": _READY}}}
                    for code, text in (("200", "ready to serve"), ("503", "the database or Redis cannot be reached"))
                },
            }
        },
        "/leads": {
            "get": {
                "summary": "List leads, best first, with the staff list's filters",
                "operationId": "listLeads",
                "security": [{"bearer": []}],
                "parameters": [*filters, facets],
                "responses": {
                    "200": {
                        "description": "a page of leads",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "leads": {"type": "array", "items": {"$ref": "#/components/schemas/Lead"}},
                                        "facets": {
                                            "type": "object",
                                            "description": "only with ?facets=sector",
                                            "properties": {
                                                "sector": {
                                                    "type": "object",
                                                    "additionalProperties": {"type": "integer"},
                                                }
                                            },
                                        },
                                        "page": {"type": "integer"},
                                        "pages": {"type": "integer"},
                                        "per_page": {"type": "integer"},
                                        "total": {
                                            "type": "integer",
                                            "description": "leads matching the filters: counted at most "
                                            "LEADS_COUNT_SECONDS ago (default 30), plus the leads added since",
                                        },
                                        "next": {
                                            "type": "string",
                                            "nullable": True,
                                            "description": "the next page's cursor, or null",
                                        },
                                        "prev": {
                                            "type": "string",
                                            "nullable": True,
                                            "description": "the previous page's cursor, or null",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    **_lead_errors(),
                },
            }
        },
        "/leads/{lead_id}": {
            "get": {
                "summary": "One lead with its breakdown, score history and notes",
                "operationId": "getLead",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "lead_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                    }
                ],
                "responses": {
                    "200": _json("#/components/schemas/Lead", "the lead, with profile, assessment, history and notes"),
                    **_lead_errors(),
                    "404": _error("no such lead"),
                },
            }
        },
    }


def _match_schema() -> dict:
    """``POST /match``'s answer: matches (parts adding up to the score), partners, incentive categories."""
    part = {
        "type": "object",
        "required": ["component", "label", "weight", "subscore", "points"],
        "properties": {
            "component": {"type": "string", "enum": ["sector", "asks", "size", "readiness", "partner"]},
            "label": {"type": "string"},
            "weight": {"type": "number"},
            "subscore": {"type": "number"},
            "points": {"type": "number", "description": "the parts' points add up to the match score"},
        },
    }
    agency = {
        "type": "object",
        "nullable": True,
        "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}},
    }
    one = {
        "type": "object",
        "required": ["opportunity", "kind", "name", "score", "parts", "reason", "missing"],
        "properties": {
            "opportunity": {"type": "string", "description": "catalogue id (hoa_lac) or staff-N"},
            "kind": {"type": "string", "enum": ["park", "project", "partner"]},
            "name": {"type": "string"},
            "score": {"type": "number", "minimum": 0, "maximum": 100},
            "parts": {"type": "array", "items": part},
            "reason": {"type": "string", "description": "one line: the parts in points, and what is missing"},
            "missing": {
                "type": "array",
                "items": {"type": "string"},
                "description": "profile fields left empty that this match would have used",
            },
            "location_type": {"type": "string"},
            "status": {"type": "string"},
            "confidence": {"type": "string"},
            "agency": agency,
            "sources": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        },
    }
    texts = {"type": "array", "items": {"type": "string"}}
    incentive = {
        "type": "object",
        "required": ["id", "label", "status", "met", "missed", "unknown", "confirm"],
        "properties": {
            "id": {"type": "string"},
            "label": {"type": "string"},
            "status": {"type": "string", "enum": ["qualifies", "possible", "not_yet"]},
            "status_label": {"type": "string"},
            "benefit": {"type": "string"},
            "met": texts,
            "missed": {
                **texts,
                "description": "what would qualify, e.g. 'qualifies if the investment "
                "reaches VND 6,000 bn (about US$230.8 m)'",
            },
            "unknown": texts,
            "confirm": texts,
            "source": {"type": "object", "additionalProperties": True},
            "applies_from": {"type": "string"},
            "confidence": {"type": "string"},
            "agency": agency,
            "reachable": {"type": "boolean"},
        },
    }
    return {
        "type": "object",
        "required": ["name", "matches", "partners", "incentives", "disclaimer"],
        "properties": {
            "name": {"type": "string"},
            "matches": {"type": "array", "items": one, "description": "parks and projects"},
            "partners": {"type": "array", "items": one, "description": "Vietnamese firms seeking partners"},
            "incentives": {"type": "array", "items": incentive},
            "location_type": {
                "type": "string",
                "nullable": True,
                "description": "where the incentives were judged: the best match's location",
            },
            "disclaimer": {"type": "string"},
            "lang": {"type": "string"},
            "extra": {"type": "object", "additionalProperties": True},
        },
    }


def match_path() -> dict:
    """The OpenAPI path item of ``POST /match``."""
    return {
        "post": {
            "summary": "Where in Hanoi, which incentives, whom to meet: matches for one profile",
            "description": "Parks, projects and Vietnamese partners ranked by a match score whose parts add up; "
            "incentive categories with the conditions met, missed and to confirm. Indicative: "
            "confirm with the authority.",
            "operationId": "match",
            "parameters": [
                _lang_param(),
                {
                    "name": "k",
                    "in": "query",
                    "schema": {"type": "integer"},
                    "description": "matches per list (1-10, default 3)",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Profile"}}},
            },
            "responses": {
                "200": _json("#/components/schemas/Matches", "the matches, partners and incentives"),
                **_scoring_errors(),
                "413": _error("the body is larger than the upload limit"),
            },
        }
    }


def document() -> dict:
    """The whole OpenAPI 3.0 document."""
    item_error = {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {
                "type": "object",
                "required": ["index"],
                "properties": {
                    "index": {"type": "integer"},
                    "id": {"type": "string", "description": "the profile's own 'id', when it gave one"},
                },
            },
        ]
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Hanoi investor matcher API",
            "version": matcher.__version__,
            "description": "Score Russian firms' profiles against Hanoi's investment priorities. "
            "Scoring is public; lead endpoints need `Authorization: Bearer <token>` "
            "(a staff member issues a token on their account page).",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {**_paths(), "/match": match_path()},
        "components": {
            "schemas": {
                "Profile": _profile_schema(),
                "Result": _result_schema(),
                "Error": _error_schema(),
                "ItemError": item_error,
                "Lead": _lead_schema(),
                "OkvedResults": _okved_schema(),
                "Matches": _match_schema(),
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
