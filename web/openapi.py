"""The OpenAPI 3 document of ``/api/v1`` (kept beside the views it describes)."""

from __future__ import annotations

import matcher
from matcher.profile import COMMITMENT_FIELDS, FIELDS

from .models import STATUSES

COMMITMENT = {"type": "string", "description": "committed, planned, none; also yes/no, да/нет, có/không, "
              "true/false, 1/0; empty = unknown"}


def _profile_schema() -> dict:
    props = {f: {"type": "string"} for f in FIELDS}
    props["investment_usd"] = {"oneOf": [{"type": "number"}, {"type": "string"}],
                               "description": "US$: 1500000, '1 500 000', '1.5m', '2bn'"}
    props["employees"] = {"oneOf": [{"type": "integer"}, {"type": "string"}]}
    for f in COMMITMENT_FIELDS:
        props[f] = COMMITMENT
    props["esg_report"] = {"oneOf": [{"type": "boolean"}, {"type": "string"}], "description": "yes/no"}
    props["vietnam_presence"] = {"type": "string", "enum": ["none", "office", "project"]}
    props["okved"] = {"type": "string", "description": "OKVED 2 / NACE codes: '62.01; 26.3'"}
    return {"type": "object", "required": ["name"], "properties": props, "additionalProperties": True,
            "example": {"name": "Volga Robotics", "description": "Industrial robots and automation lines",
                        "okved": "28.99", "investment_usd": "2m", "training": "committed"}}


def _result_schema() -> dict:
    number = {"type": "number"}
    return {"type": "object", "properties": {
        "name": {"type": "string"}, "score": {**number, "minimum": 0, "maximum": 100},
        "band": {"type": "string"}, "band_label": {"type": "string"},
        "sector": {"type": "string", "nullable": True}, "sector_label": {"type": "string", "nullable": True},
        "tier": {"type": "string", "nullable": True},
        "contributions": {"type": "array", "items": {"type": "object", "properties": {
            "criterion": {"type": "string"}, "label": {"type": "string"}, "weight": number,
            "subscore": number, "points": number}}},
        "sectors": {"type": "array", "items": {"type": "object", "properties": {
            "sector": {"type": "string"}, "source": {"type": "string"},
            "evidence": {"type": "array", "items": {"type": "string"}}}}},
        "missing": {"type": "array", "items": {"type": "string"}},
        "completeness": {**number, "minimum": 0, "maximum": 1},
        "improvements": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "advice": {"type": "string"}, "gain": number}}},
        "explanation": {"type": "string"}, "lang": {"type": "string", "enum": ["en", "ru", "vi"]},
        "weights_version": {"type": "string"}}}


def _error_schema() -> dict:
    return {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"}, "field": {"type": "string", "nullable": True},
        "reason": {"type": "string"}}}


def _lead_schema() -> dict:
    return {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "score": {"type": "number", "nullable": True},
        "band": {"type": "string", "nullable": True}, "sector": {"type": "string", "nullable": True},
        "completeness": {"type": "number", "nullable": True}, "status": {"type": "string", "enum": list(STATUSES)},
        "source": {"type": "string"}, "assigned_to": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"}}}


def _json(ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _lang_param() -> dict:
    return {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "ru", "vi"]},
            "description": "language of labels and explanations (default: Accept-Language, else en)"}


def _paths() -> dict:
    error400 = _json("#/components/schemas/Error", "invalid input; `field` names the field at fault")
    error401 = _json("#/components/schemas/Error", "missing or invalid API token")
    filters = [{"name": n, "in": "query", "schema": {"type": t}} for n, t in (
        ("sector", "string"), ("band", "string"), ("status", "string"), ("q", "string"),
        ("min_completeness", "number"), ("sort", "string"), ("dir", "string"), ("page", "integer"),
        ("per_page", "integer"))]
    return {
        "/score": {"post": {
            "summary": "Score one profile", "operationId": "score", "parameters": [_lang_param()],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Profile"}}}},
            "responses": {"200": _json("#/components/schemas/Result", "the score and its explanation"),
                          "400": error400}}},
        "/score/batch": {"post": {
            "summary": "Score a list of profiles (at most 1000)", "operationId": "scoreBatch",
            "parameters": [_lang_param()],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/Profile"}},
                {"type": "object", "properties": {"profiles": {"type": "array", "items": {
                    "$ref": "#/components/schemas/Profile"}}}}]}}}},
            "responses": {"200": {"description": "one item per profile, in order: a result or an error",
                                  "content": {"application/json": {"schema": {"type": "object", "properties": {
                                      "results": {"type": "array", "items": {"oneOf": [
                                          {"$ref": "#/components/schemas/Result"},
                                          {"$ref": "#/components/schemas/ItemError"}]}},
                                      "scored": {"type": "integer"}, "errors": {"type": "integer"}}}}}},
                          "400": error400,
                          "413": _json("#/components/schemas/Error", "more than 1000 profiles")}}},
        "/health": {"get": {"summary": "Liveness check", "operationId": "health",
                            "responses": {"200": {"description": "the app is up", "content": {"application/json": {
                                "schema": {"type": "object", "properties": {"status": {"type": "string"}}}}}}}}},
        "/leads": {"get": {
            "summary": "List leads, best first, with the staff list's filters", "operationId": "listLeads",
            "security": [{"bearer": []}], "parameters": filters,
            "responses": {"200": {"description": "a page of leads", "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "leads": {"type": "array", "items": {"$ref": "#/components/schemas/Lead"}},
                    "page": {"type": "integer"}, "pages": {"type": "integer"},
                    "per_page": {"type": "integer"}, "total": {"type": "integer"}}}}}},
                "401": error401}}},
        "/leads/{lead_id}": {"get": {
            "summary": "One lead with its breakdown, score history and notes", "operationId": "getLead",
            "security": [{"bearer": []}],
            "parameters": [{"name": "lead_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": _json("#/components/schemas/Lead", "the lead, with profile, assessment, "
                                       "history and notes"),
                          "401": error401, "404": _json("#/components/schemas/Error", "no such lead")}}},
    }


def document() -> dict:
    """The whole OpenAPI 3.0 document."""
    item_error = {"allOf": [{"$ref": "#/components/schemas/Error"},
                            {"type": "object", "properties": {"index": {"type": "integer"}}}]}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hanoi investor matcher API", "version": matcher.__version__,
                 "description": "Score Russian firms' profiles against Hanoi's investment priorities. "
                                "Scoring is public; lead endpoints need `Authorization: Bearer <token>` "
                                "(a staff member issues a token on their account page)."},
        "servers": [{"url": "/api/v1"}],
        "paths": _paths(),
        "components": {
            "schemas": {"Profile": _profile_schema(), "Result": _result_schema(), "Error": _error_schema(),
                        "ItemError": item_error, "Lead": _lead_schema()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
