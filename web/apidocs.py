"""The JSON API's page for people (``/api``): each endpoint, its parameters and answers, and an example
scored as the page is shown, all read from the OpenAPI document (:func:`web.openapi.document`), so the page
and the document cannot disagree. The document itself stays at ``/api/v1/openapi.json``."""

from __future__ import annotations

import json

from flask import Blueprint, render_template

from .api import score_answer
from .i18n import current_lang
from .mail import external_url
from .openapi import document

bp = Blueprint("apidocs", __name__)

#: The order endpoints are listed in: scoring first, then look-ups, then the staff endpoints.
METHODS = ("get", "post", "put", "patch", "delete")


def endpoints(doc: dict) -> list[dict]:
    """Every operation of ``doc``: method, path, summary, whether it needs a token, parameters, answers."""
    prefix = doc["servers"][0]["url"]
    out = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            out.append(
                {
                    "method": method.upper(),
                    "path": prefix + path,
                    "anchor": f"{method}-{path.strip('/').replace('/', '-').replace('{', '').replace('}', '')}",
                    "summary": op.get("summary", ""),
                    "token": bool(op.get("security")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "type": _shape(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _body(op),
                    "responses": [(code, r.get("description", "")) for code, r in op.get("responses", {}).items()],
                }
            )
    return out


def _body(op: dict) -> str:
    """What a request body is, by its schema's name: ``Profile``, ``[Profile]`` (a list of them), several
    forms joined by " | ", or "" for no body."""
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    return _shape(content.get("schema", {}))


def _shape(schema: dict) -> str:
    """A schema in a few characters: its name, its values (``en | ru | vi``), ``[item]``, ``{key: ...}``
    or its type."""
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "oneOf" in schema:
        return " | ".join(_shape(s) for s in schema["oneOf"])
    if schema.get("type") == "array":
        return f"[{_shape(schema.get('items', {}))}]"
    if schema.get("type") == "object":
        return "{" + ", ".join(f"{k}: {_shape(v)}" for k, v in schema.get("properties", {}).items()) + "}"
    return schema.get("type", "")


@bp.get("/api")
def index():
    """The API page, with the document's example profile scored in the page's language."""
    doc = document()
    example = doc["components"]["schemas"]["Profile"]["example"]
    lang = current_lang()
    result = score_answer(example, lang)
    fields = [
        (name, _shape(schema), schema.get("description", ""))
        for name, schema in doc["components"]["schemas"]["Profile"]["properties"].items()
    ]
    return render_template(
        "apidocs.html",
        endpoints=endpoints(doc),
        fields=fields,
        example=json.dumps(example, ensure_ascii=False, indent=2),
        result=json.dumps(result, ensure_ascii=False, indent=2),
        version=doc["info"]["version"],
        score_url=external_url("api.score", lang=lang),  # under PUBLIC_URL when set, as in e-mails
    )
