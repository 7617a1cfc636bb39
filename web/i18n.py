"""Language choice (``?lang=`` remembered in the session, else the browser's) and label helpers."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_decimal, format_percent, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from jinja2 import pass_eval_context
from markupsafe import Markup

from matcher.fields import LANGUAGE_NAMES, REGISTRY, form_groups, words
from matcher.io.formats import ENCODING_NAMES
from matcher.messages import FIELD_LABELS
from matcher.messages import reason_text as matcher_reason_text
from matcher.profile import FIELDS

from .scoring import get_config

LANG_NAMES = LANGUAGE_NAMES
STATUS_LABELS = {
    "new": _l("new"),
    "contacted": _l("contacted"),
    "meeting": _l("meeting"),
    "proposal": _l("proposal"),
    "invested": _l("invested"),
    "dropped": _l("dropped"),
}
SOURCE_LABELS = {
    "assess": _l("self-assessment"),
    "batch": _l("batch upload"),
    "sample": _l("sample"),
    "api": _l("API"),
    "manual": _l("entered by staff"),
}
STATE_LABELS = {"queued": _l("queued"), "running": _l("running"), "done": _l("done"), "failed": _l("failed")}
ACTION_LABELS = {
    "lead.create": _l("lead created"),
    "lead.status": _l("status changed"),
    "lead.assign": _l("assigned"),
    "note.add": _l("note added"),
}
_YES = (*words("yes"), "1")  # every language's yes and no words (the registry's, matcher/fields.py)
_NO = (*words("no"), "0")
#: Stored yes/no words of the answer kinds that read them (a CSV's "да" shown as "yes").
_YESNO = {**dict.fromkeys(_YES, "yes"), **dict.fromkeys(_NO, "no")}
_YESNO_WORDS = {"commitment": _YESNO, "yesno": _YESNO}
#: Each answer field's stored answers in the page's language (the registry's labels, matcher/fields.py).
ANSWER_LABELS = {
    f.name: {
        **{v: _l(label) for v, label in f.answers.offered},
        **{v: _l(label) for v, label in _YESNO_WORDS.get(f.kind, {}).items()},
    }
    for f in REGISTRY
    if f.answers
}
ROLE_LABELS = {"analyst": _l("analyst"), "admin": _l("admin")}
EVIDENCE_LABELS = {"declared": _l("declared"), "verified": _l("verified"), "estimated": _l("estimated")}
ACTION_LABELS.update({"lead.evidence": _l("evidence changed")})
ACTION_LABELS.update(
    {
        "lead.merge": _l("merged a duplicate lead into this one"),
        "lead.edit": _l("answers edited, scored again"),
        "contact.add": _l("contact person added"),
        "contact.remove": _l("contact person removed"),
        "lead.anonymise": _l("anonymised (consent withdrawn)"),
        "lead.delete": _l("deleted (consent withdrawn)"),
        "task.add": _l("follow-up planned"),
        "task.done": _l("follow-up done"),
        "activity.add": _l("activity logged"),
    }
)


def reason_text(reason: str) -> str:
    """matcher's reason for a bad value in the current language, looked up by its reason code
    (:class:`matcher.messages.Reason`; its English wording may change without losing a translation)."""
    return matcher_reason_text(reason, current_lang())


#: matcher's ConfigError codes (see :class:`matcher.errors.ConfigError`) worded in the reader's language.
CONFIG_PROBLEMS = {
    "number": _l("%(key)s: must be a finite number, not %(value)s"),
    "range": _l("%(key)s: must be between %(low)s and %(high)s, not %(value)s"),
    "total": _l("%(key)s: the criterion weights must add up to at least %(low)s, not %(value)s"),
}


def config_error_text(err) -> str:
    """A :class:`matcher.ConfigError` in the current language (as matcher words it when it has no code)."""
    template = CONFIG_PROBLEMS.get(err.code)
    if template is None:
        return str(err)
    return str(template) % {"low": "", "high": "", "value": "", **err.params, "key": err.key}


def lang_arg() -> str | None:
    """``?lang=`` as a language code (``RU``, `` ru`` and the language tags ``ru-RU``, ``vi_VN`` are ``ru``,
    ``vi``), or None when there is none."""
    lang = request.args.get("lang")
    return lang.strip().lower().replace("_", "-").split("-")[0] if lang else None


def select_locale() -> str:
    """The language of this request: ``?lang=``, then the session, then Accept-Language."""
    langs = current_app.config["LANGUAGES"]
    lang = lang_arg() or session.get("lang")
    if lang in langs:
        return lang
    return request.accept_languages.best_match(langs) or "en"


def current_lang() -> str:
    """The language code of the current request (en, ru or vi)."""
    return str(_locale() or "en")


def _locale():
    """Flask-Babel's :func:`get_locale`, read straight from its namespace in ``g`` once it is chosen (or forced:
    ``force_locale`` sets it there too). A page asks for it a hundred times, and each ``get_locale`` goes
    through ``g``'s proxy three times."""
    try:
        namespace = g._get_current_object().__dict__.get("_flask_babel")
    except RuntimeError:  # no app context: get_locale says None
        return None
    locale = getattr(namespace, "babel_locale", None)
    return get_locale() if locale is None else locale


def _label(mapping, lang: str) -> str:
    return mapping.get(lang, mapping["en"])


def sector_label(sector_id: str | None) -> str:
    """A sector's label in the current language (the id if unknown)."""
    if not sector_id:
        return "—"
    config = get_config()
    if sector_id not in config.sector_ids:
        return sector_id
    return _label(config.sector(sector_id).label, current_lang())


def criterion_label(criterion_id: str) -> str:
    """A criterion's label in the current language."""
    for criterion in get_config().criteria:
        if criterion.id == criterion_id:
            return _label(criterion.label, current_lang())
    return criterion_id


def band_label(band: str | None) -> str:
    """A band's label in the current language."""
    for item in get_config().bands:
        if item.name == band:
            return _label(item.label, current_lang())
    return band or "—"


def tier_label(tier: str | None) -> str:
    """A tier's label in the current language."""
    tiers = get_config().tiers
    return _label(tiers[tier]["label"], current_lang()) if tier in tiers else "—"


#: Lead fields outside the data contract (firm identifiers kept by staff).
LEAD_FIELD_LABELS = {
    "inn": _l("INN (taxpayer number)"),
    "ogrn": _l("OGRN (registration number)"),
    "ext_id": _l("Your key"),
}


def field_label(field: str) -> str:
    """A profile field's label in the current language, capitalised."""
    text = FIELD_LABELS.get(current_lang(), FIELD_LABELS["en"]).get(field) or str(LEAD_FIELD_LABELS.get(field, field))
    return text[:1].upper() + text[1:]


def band_ranges() -> list[tuple[str, float, float]]:
    """(band, from, to) for each band of the sectors file, lowest first."""
    bands = sorted(get_config().bands, key=lambda b: b.min)
    return [(b.name, b.min, bands[i + 1].min if i + 1 < len(bands) else 100.0) for i, b in enumerate(bands)]


def answer_label(field: str, value: str | None) -> str:
    """A stored answer in the current language when it is one of the canonical answers."""
    if not value:
        return "—"
    label = ANSWER_LABELS.get(field, {}).get(value.strip().lower())
    return str(label) if label is not None else value


def lang_url(lang: str) -> str:
    """This page's URL with ``lang`` switched (other query arguments kept)."""
    path, pairs = _query_pairs()
    pairs = {**pairs, "lang": ["lang=" + quote_plus(lang)]}  # where ?lang= was, else last
    return path + "?" + "&".join(pair for values in pairs.values() for pair in values)


def query_url(**changes) -> str:
    """This page's URL with some query arguments changed (``None`` removes one); ``lang`` left out."""
    path, pairs = _query_pairs()
    args = {key: values[0] for key, values in pairs.items() if key != "lang"}  # each argument's first value
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = _pair(key, str(value))
    return path + ("?" + "&".join(args.values()) if args else "")


def query_urls(key: str, values, **changes) -> list[str]:
    """``query_url(**changes, key=value)`` for each of ``values`` (the same URLs), the rest encoded once."""
    path, pairs = _query_pairs()
    args = {k: v[0] for k, v in pairs.items() if k != "lang"}
    for k, value in changes.items():
        if value is None:
            args.pop(k, None)
        else:
            args[k] = _pair(k, str(value))
    args.setdefault(key, None)  # where it was, else last
    keys = list(args)
    at = keys.index(key)
    before = "".join(args[k] + "&" for k in keys[:at])
    after = "".join("&" + args[k] for k in keys[at + 1 :])
    name = quote_plus(key) + "="
    return [f"{path}?{before}{name}{quote_plus(str(value))}{after}" for value in values]


def query_base(drop: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """The request's path and its arguments but ``lang`` and ``drop`` (by name: each its first value as an
    encoded ``key=value`` pair), to build :func:`query_url`'s URLs from (another value of an argument keeps
    its place, a new argument goes last)."""
    path, pairs = _query_pairs()
    return path, {k: v[0] for k, v in pairs.items() if k != "lang" and k not in drop}


def query_pair(key: str, value: str) -> str:
    """``key=value`` as ``urlencode`` writes it."""
    return _pair(key, value)


def _pair(key: str, value: str) -> str:
    """``key=value`` as ``urlencode`` writes it."""
    return quote_plus(key) + "=" + quote_plus(value)


def _query_pairs() -> tuple[str, dict[str, list[str]]]:
    """The request's path and, per query argument, its values as encoded ``key=value`` pairs, read once per
    request (the lead list links 33 times to itself: sorts, sector facets, pages, languages). The URLs are
    those ``urlencode`` makes of the arguments with the changes applied."""
    environ = request.environ
    found = environ.get("matcher.query_pairs")
    if found is None:
        pairs = {key: [_pair(key, value) for value in values] for key, values in request.args.lists()}
        found = environ["matcher.query_pairs"] = (request.path, pairs)
    return found


def number(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals, grouped and marked as the current language writes it (71,7; 1\u00a0500)."""
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def percent(value: float | None) -> str:
    """A fraction in [0, 1] as a whole percentage, as the current language writes it (64%, 64\u00a0%)."""
    return "—" if value is None else format_percent(value)


def decimal(value) -> str:
    """A number with as many decimals as it has (up to three), as the current language writes it (0,75);
    anything else (a tier name in a weights change) as it is, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_decimal(value)
    return str(value)


def decimal_text(text: str | None, digits: int = 1) -> str:
    """A number stored as text (a scored CSV's ``score``) in the current language; other text as it is."""
    try:
        return number(float(text), digits) if text not in (None, "") else ""
    except ValueError:
        return text


def percent_text(text: str | None) -> str:
    """A fraction stored as text (a scored CSV's ``completeness``, e.g. 0.64) as a percentage; other text as it is."""
    try:
        return percent(float(text)) if text not in (None, "") else ""
    except ValueError:
        return text


ENCODING_LABELS = {"utf-8": _l("UTF-8"), "utf-8-sig": _l("UTF-8 with BOM"), "cp1251": _l("Windows-1251")}
DELIMITER_LABELS = {",": _l("comma"), ";": _l("semicolon"), "\t": _l("tab")}


def encoding_label(encoding: str | None) -> str:
    """A file encoding as people name it (UTF-8 with BOM, Windows-1251)."""
    encoding = encoding or "utf-8"
    return str(ENCODING_LABELS.get(encoding) or ENCODING_NAMES.get(encoding, encoding))


def delimiter_label(delimiter: str | None) -> str:
    """A CSV delimiter as a word (comma, semicolon, tab)."""
    return str(DELIMITER_LABELS.get(delimiter or ",", delimiter))


def init_app(app: Flask) -> None:
    """Remember ``?lang=`` in the session and give templates the helpers."""

    @app.before_request
    def remember_lang():
        lang = lang_arg()
        if lang in app.config["LANGUAGES"] and not request.path.startswith("/api/"):
            session["lang"] = lang

    app.jinja_env.globals.update(
        current_lang=current_lang,
        sector_label=sector_label,
        criterion_label=criterion_label,
        band_label=band_label,
        tier_label=tier_label,
        field_label=field_label,
        lang_url=lang_url,
        query_url=query_url,
        LANG_NAMES=LANG_NAMES,
        STATUS_LABELS=STATUS_LABELS,
        SOURCE_LABELS=SOURCE_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        STATE_LABELS=STATE_LABELS,
        ACTION_LABELS=ACTION_LABELS,
        answer_label=answer_label,
        band_ranges=band_ranges,
        EVIDENCE_LABELS=EVIDENCE_LABELS,
        PROFILE_FIELDS=FIELDS,
        PROFILE_GROUPS=form_groups(),
        encoding_label=encoding_label,
        delimiter_label=delimiter_label,
        state_labels_json=lambda: json.dumps({k: str(v) for k, v in STATE_LABELS.items()}, ensure_ascii=False),
    )
    app.jinja_env.filters.update(
        number=number, percent=percent, decimal=decimal, decimal_text=decimal_text, percent_text=percent_text
    )
    app.jinja_env.install_gettext_callables(  # Flask-Babel's, with the translations found once per request
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # Jinja's newstyle ``_`` takes the template's context: inside a block or a loop each call first copies it
    # (``Context.derived``, every variable and block), 46 copies and 0.5 ms of CPU on the lead list. The
    # same gettext with the evaluation context only (autoescape: Markup, then the variables, escaped).
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)


@pass_eval_context
def _template_gettext(eval_ctx, string: str, /, **variables) -> str:
    """``_()`` and ``gettext()`` of templates: as Jinja's newstyle gettext (the message always formatted with
    ``variables``; escaped where the template autoescapes), without the context it does not use.

    A message without variables is the same Markup every time in a language: kept with its catalogue
    (:func:`_plain_messages`), as a page prints some sixty of them."""
    translations = _translations()  # not kept on eval_ctx: an imported macro module's outlives its request
    if not variables and eval_ctx.autoescape:
        plain = _plain_messages(translations)
        found = plain.get(string)
        if found is None:
            found = Markup(translations.ugettext(string)) % variables
            if len(plain) < _PLAIN_MAX:
                plain[string] = found
        return found
    rv = translations.ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


#: Messages without variables kept per catalogue at most (the templates' own: a few hundred).
_PLAIN_MAX = 4000


def _plain_messages(translations) -> dict[str, Markup]:
    """The escaped, formatted messages without variables of one catalogue, kept on the catalogue itself (a new
    catalogue, e.g. compiled translations loaded again, starts empty)."""
    try:
        return translations.matcher_plain
    except AttributeError:
        translations.matcher_plain = {}
        return translations.matcher_plain


def _translations():
    """The request's translations: a page asks for dozens of messages, and Flask-Babel finds the catalogue
    (the locale as a string, the domain, the cache) again for each. Found again when the locale changes
    (``force_locale``: an e-mail in the firm's language)."""
    if not has_request_context():
        return get_translations()
    space = g._get_current_object().__dict__
    locale = getattr(space.get("_flask_babel"), "babel_locale", None)  # as in _locale()
    if locale is None:
        locale = get_locale()
    found = space.get("matcher_translations")
    if found is None or found[0] is not locale:
        found = space["matcher_translations"] = (locale, get_translations())
    return found[1]
