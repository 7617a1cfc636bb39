"""The field registry: every field of the profile data contract, and every language, declared once.

A field's name, kind (how its cells are read), allowed answers, labels and CSV header spellings
per language, form help text and place on the forms are written here and nowhere else. What
derives from it:

- ``matcher``: :data:`matcher.profile.FIELDS` and the header matching (``HEADER_ALIASES``),
  :data:`matcher.config.ANSWER_INPUTS` / ``NUMBER_INPUTS`` (what a criterion of ``sectors.yaml``
  may read), the readers of :mod:`matcher.frame` (by kind), ``FIELD_LABELS`` of
  :mod:`matcher.messages`, the ``--lang`` choices;
- ``web``: the profile forms (``web/forms.py``, rendered by the ``profile_fields`` macro of
  ``web/templates/_macros.html``), the request schema of the OpenAPI document
  (``web/openapi.py``), the columns of ``Lead`` (``web/models.py``), answer labels, the
  languages offered and their switchers.

A language (:class:`Language`) carries its name, number separators and the answer words the
readers accept; its phrases are in its catalogue, ``matcher/catalogues/<code>.py``.

The steps to add a criterion or a language are in docs/architecture.md ("Where to change
what"). This module imports nothing of the package: every other module may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the web app's catalogue (``pybabel extract -k N_``, see ``web/babel.cfg``); it is
    translated where it is shown, by the web app."""
    return msgid


@dataclass(frozen=True)
class Language:
    """A language of the matcher and the web app.

    Parameters
    ----------
    code : str
        ISO 639-1 code (``?lang=``, ``--lang``, the keys of every label table).
    name : str
        The language's name in itself (the language switcher, the upload form).
    thousands, decimal : str
        How numbers are written in explanations (5,000,000 / 5 000 000 / 5.000.000).
    words : mapping
        The words of this language the readers of :mod:`matcher.values` accept, by meaning:
        ``yes``, ``no``, ``committed``, ``planned`` (commitments), ``none``, ``office``,
        ``project`` (presence), ``thousand``, ``million``, ``billion`` (amounts: ``1,5 млн``).
        Case is ignored; words of every language are accepted whatever the page's language.
    complete : bool
        Whether the data files (``sectors.yaml``, ``opportunities.yaml``, ``incentives.yaml``)
        must give every label in this language and its catalogue must word every reason. A
        language being added starts incomplete: a label it lacks is the English one.
    """

    code: str
    name: str
    thousands: str = ","
    decimal: str = "."
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    complete: bool = True


#: The languages, in the order they are offered; English first (the fallback of every table keyed by language).
LANGUAGES: tuple[Language, ...] = (
    Language(
        "en",
        "English",
        ",",
        ".",
        {
            "yes": ("yes", "y", "true"),
            "no": ("no", "n", "false"),
            "committed": ("committed", "commit", "commitment"),
            "planned": ("planned", "plan", "planning", "maybe"),
            "none": ("none", "no"),
            "office": ("office", "representative office"),
            "project": ("project",),
            "thousand": ("k", "th"),
            "million": ("m", "mn", "mln", "million"),
            "billion": ("b", "bn", "billion"),
        },
    ),
    Language(
        "ru",
        "Русский",
        "\u00a0",
        ",",
        {
            "yes": ("да", "д"),
            "no": ("нет", "н"),
            "committed": ("обязательство", "обязуемся"),
            "planned": ("планируется", "планируем", "план"),
            "none": ("нет",),
            "office": ("офис", "представительство"),
            "project": ("проект",),
            "thousand": ("тыс",),
            "million": ("млн",),
            "billion": ("млрд",),
        },
    ),
    Language(
        "vi",
        "Tiếng Việt",
        ".",
        ",",
        {
            "yes": ("có", "co"),
            "no": ("không", "khong"),
            "committed": ("cam kết",),
            "planned": ("dự kiến", "kế hoạch", "có kế hoạch"),
            "none": ("không",),
            "office": ("văn phòng",),
            "project": ("dự án",),
            "thousand": ("nghìn", "ngàn"),
            "million": ("triệu",),
            "billion": ("tỷ", "tỉ"),
        },
    ),
)
#: The language codes, in order.
LANGS = tuple(lang.code for lang in LANGUAGES)
#: The languages every label of the data files must be given in (see :attr:`Language.complete`).
COMPLETE_LANGS = tuple(lang.code for lang in LANGUAGES if lang.complete)
#: Each language's name in itself (the language switcher, the upload form's choice).
LANGUAGE_NAMES: Mapping[str, str] = {lang.code: lang.name for lang in LANGUAGES}
BY_LANG: Mapping[str, Language] = {lang.code: lang for lang in LANGUAGES}


def words(meaning: str) -> tuple[str, ...]:
    """The words of every language for ``meaning`` (a key of :attr:`Language.words`), in language order.

    Examples
    --------
    >>> words("million")
    ('m', 'mn', 'mln', 'million', 'млн', 'triệu')
    """
    return tuple(w for lang in LANGUAGES for w in lang.words.get(meaning, ()))


@dataclass(frozen=True)
class Answers:
    """A closed set of answers a field accepts.

    ``levels`` are the answers in increasing order (a criterion of ``sectors.yaml`` gives each a
    sub-score; the typed columns hold indices into it). ``offered`` are the answers as a form
    offers them, each with its label (an English msgid, translated by the web app's catalogue).
    """

    kind: str
    levels: tuple[str, ...]
    offered: tuple[tuple[str, str], ...]


#: The answer kinds, by name. A new answer kind also needs a reader in :data:`matcher.values.READERS`.
ANSWER_KINDS: Mapping[str, Answers] = {
    "commitment": Answers(
        "commitment",
        ("none", "planned", "committed"),
        (("committed", N_("committed")), ("planned", N_("planned")), ("none", N_("no"))),
    ),
    "yesno": Answers("yesno", ("no", "yes"), (("yes", N_("yes")), ("no", N_("no")))),
    "presence": Answers(
        "presence",
        ("none", "office", "project"),
        (("none", N_("none yet")), ("office", N_("an office or representative")), ("project", N_("a running project"))),
    ),
}
#: Kinds whose cells are numbers.
NUMBER_KINDS = ("money", "count")
#: Every kind: ``key`` (the caller's id), ``name``, ``text``, ``longtext``, ``codes`` (OKVED 2),
#: ``sectors`` (sector ids or words), ``email``, the number kinds and the answer kinds.
KINDS = ("key", "name", "text", "longtext", "codes", "sectors", "email", *NUMBER_KINDS, *ANSWER_KINDS)

#: The fieldsets of the profile forms, in order: (group, legend msgid, layout class).
FORM_GROUPS = (
    ("firm", N_("The firm"), "grid-2"),
    ("size", N_("Size of the project"), "grid-2"),
    ("commitments", N_("Commitments in Vietnam"), "grid-3"),
)


@dataclass(frozen=True)
class Field:
    """One field of the profile data contract.

    Parameters
    ----------
    name : str
        The canonical column name (CSV header, JSON key, database column).
    kind : str
        One of :data:`KINDS`: how a cell is read and which form widget and schema it gets.
    labels : mapping
        Language -> the field's name as people read it (explanations, forms, headers).
    aliases : mapping
        Language -> further header spellings accepted in a CSV file or JSON object.
    help : str
        The form's help text, an English msgid ("" = no help).
    group : str
        The fieldset of :data:`FORM_GROUPS` the field is shown in ("" = not on the self-assessment form).
    max_length : int
        The longest text a form accepts (0 = no text field).
    first : bool
        Shown at the top of its group (before the fields listed earlier here).
    """

    name: str
    kind: str
    labels: Mapping[str, str]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    help: str = ""
    group: str = ""
    max_length: int = 0
    first: bool = False

    @property
    def answers(self) -> Answers | None:
        """The closed set of answers, for an answer kind."""
        return ANSWER_KINDS.get(self.kind)


def _labels(en: str, ru: str, vi: str) -> dict[str, str]:
    return {"en": en, "ru": ru, "vi": vi}


def _aliases(en: tuple[str, ...], ru: tuple[str, ...], vi: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {"en": en, "ru": ru, "vi": vi}


#: Every field of the data contract, in output order; ``name`` is the only required one.
#: Header matching ignores case, spaces, punctuation, accents and ё/е, so "Местный партнёр",
#: "местный_партнер" and "MESTNYJ..." spelled alike match alike; ``tests/test_profile.py`` checks
#: that no two fields share a spelling. Not "sector" for ``sectors``: that is a result column of
#: ``matcher score``, and a scored file must score again.
REGISTRY: tuple[Field, ...] = (
    Field(
        "id",
        "key",
        _labels("id", "id", "id"),
        _aliases(("key", "ref"), ("идентификатор", "ид"), ("mã định danh", "mã số")),
    ),
    Field(
        "name",
        "name",
        _labels("firm name", "название компании", "tên doanh nghiệp"),
        _aliases(
            ("company", "firm", "company name", "firm name", "organisation", "organization"),
            ("название", "компания", "наименование", "название компании", "организация", "наименование организации"),
            ("tên", "tên doanh nghiệp", "tên công ty", "doanh nghiệp", "công ty"),
        ),
        help=N_("The firm's registered name, in any script."),
        group="firm",
        max_length=300,
        first=True,
    ),
    Field(
        "description",
        "longtext",
        _labels("description", "описание", "mô tả"),
        _aliases(
            ("about", "activity", "activities", "profile"),
            ("описание", "деятельность", "описание деятельности", "о компании", "профиль"),
            ("mô tả", "hoạt động", "mô tả hoạt động", "giới thiệu"),
        ),
        help=N_("What the firm does and what it plans in Vietnam, in English, Russian or Vietnamese."),
        group="firm",
        max_length=5000,
    ),
    Field(
        "okved",
        "codes",
        _labels("OKVED codes", "коды ОКВЭД", "mã OKVED"),
        _aliases(
            ("nace", "nace code", "okved code", "okved codes", "industry code", "okved 2"),
            ("оквэд", "оквэд 2", "код оквэд", "коды оквэд", "оквэд2"),
            ("mã okved", "mã ngành", "mã ngành nghề"),
        ),
        help=N_(
            "OKVED 2 codes such as 62.01, 26 or 28.9 (28,99 works too); separate several with ';'. "
            "Type a code or a word to see suggestions."
        ),
        group="firm",
        max_length=300,
    ),
    Field(
        "sectors",
        "sectors",
        _labels("sectors", "отрасли", "ngành"),
        _aliases(
            ("industry", "industries"),
            ("отрасль", "отрасли", "сектор", "секторы", "сфера"),
            ("ngành", "lĩnh vực", "ngành nghề"),
        ),
        help=N_("Sectors the firm names itself (optional): tick one or more."),
        group="firm",
    ),
    Field(
        "investment_usd",
        "money",
        _labels("planned investment (US$)", "планируемые инвестиции (долл. США)", "vốn đầu tư dự kiến (USD)"),
        _aliases(
            ("investment", "investments", "investment usd", "planned investment", "capex"),
            (
                "инвестиции",
                "объём инвестиций",
                "инвестиции usd",
                "инвестиции долл",
                "планируемые инвестиции",
                "сумма инвестиций",
                "объём вложений",
            ),
            ("vốn đầu tư", "đầu tư", "vốn đầu tư usd", "vốn đầu tư dự kiến", "vốn"),
        ),
        help=N_("Planned investment in Hanoi in US dollars: 1500000, 1.5m or 2bn."),
        group="size",
        max_length=50,
    ),
    Field(
        "employees",
        "count",
        _labels("employees", "сотрудники", "số nhân viên"),
        _aliases(
            ("staff", "headcount", "employee count", "number of employees"),
            (
                "сотрудники",
                "численность",
                "численность сотрудников",
                "количество сотрудников",
                "персонал",
                "штат",
                "число сотрудников",
            ),
            ("nhân viên", "số nhân viên", "lao động", "số lao động", "nhân sự"),
        ),
        help=N_("Number of employees of the firm."),
        group="size",
        max_length=20,
    ),
    Field(
        "tech_transfer",
        "commitment",
        _labels("technology transfer", "передача технологий", "chuyển giao công nghệ"),
        _aliases(
            ("technology transfer", "transfer of technology"),
            ("передача технологий", "трансфер технологий"),
            ("chuyển giao công nghệ",),
        ),
        help=N_("Will the firm transfer technology to Vietnamese partners?"),
        group="commitments",
    ),
    Field(
        "training",
        "commitment",
        _labels("local staff training", "обучение местных кадров", "đào tạo nhân lực địa phương"),
        _aliases(
            ("staff training", "local training"),
            ("обучение", "обучение кадров", "обучение местных кадров", "подготовка кадров", "обучение персонала"),
            ("đào tạo", "đào tạo nhân lực", "đào tạo nhân lực địa phương", "đào tạo lao động"),
        ),
        help=N_("Will the firm train local staff?"),
        group="commitments",
    ),
    Field(
        "local_partner",
        "commitment",
        _labels("local partner", "местный партнёр", "đối tác địa phương"),
        _aliases(
            ("partner", "vietnamese partner", "local partners"),
            (
                "местный партнёр",
                "местный партнер",
                "партнёр",
                "вьетнамский партнёр",
                "местные партнёры",
                "местные поставщики",
            ),
            ("đối tác", "đối tác địa phương", "đối tác việt nam", "nhà cung cấp địa phương"),
        ),
        help=N_("Will the firm work with a Vietnamese partner or local suppliers?"),
        group="commitments",
    ),
    Field(
        "green",
        "commitment",
        _labels("green commitment", "экологичность", "cam kết xanh"),
        _aliases(
            ("environment", "environmental", "ecology", "green commitment", "sustainability"),
            ("экология", "экологичность", "зелёный", "зелёные технологии", "экологические обязательства"),
            ("xanh", "môi trường", "cam kết xanh", "cam kết môi trường"),
        ),
        help=N_("Is the project green and environmentally friendly?"),
        group="commitments",
    ),
    Field(
        "esg_report",
        "yesno",
        _labels("ESG report", "отчёт ESG", "báo cáo ESG"),
        _aliases(
            ("esg", "esg reporting", "sustainability report"),
            ("отчёт esg", "esg отчёт", "отчётность esg", "отчёт об устойчивом развитии"),
            ("báo cáo esg", "báo cáo phát triển bền vững"),
        ),
        help=N_("Does the firm publish an ESG or sustainability report?"),
        group="commitments",
    ),
    Field(
        "vietnam_presence",
        "presence",
        _labels("presence in Vietnam", "присутствие во Вьетнаме", "hiện diện tại Việt Nam"),
        _aliases(
            ("presence", "presence in vietnam", "vietnam office"),
            ("присутствие", "присутствие во вьетнаме", "представительство во вьетнаме"),
            ("hiện diện", "hiện diện tại việt nam", "văn phòng tại việt nam"),
        ),
        help=N_("Does the firm already have a presence in Vietnam?"),
        group="commitments",
    ),
    Field(
        "website",
        "text",
        _labels("website", "сайт", "trang web"),
        _aliases(
            ("web", "site", "url", "web site", "homepage"),
            ("сайт", "веб-сайт", "веб сайт"),
            ("trang web", "website công ty"),
        ),
        help=N_("The firm's website."),
        group="firm",
        max_length=300,
    ),
    Field(
        "contact_email",
        "email",
        _labels("contact e-mail", "контактный e-mail", "e-mail liên hệ"),
        _aliases(
            ("email", "e-mail", "mail", "contact"),
            ("почта", "электронная почта", "эл. почта", "контактный email", "емейл"),
            ("thư điện tử", "email liên hệ", "e-mail liên hệ"),
        ),
        max_length=254,
    ),
    Field(
        "city",
        "text",
        _labels("city", "город", "thành phố"),
        _aliases(("town", "location"), ("город", "населённый пункт"), ("thành phố", "tỉnh/thành phố", "tỉnh thành")),
        help=N_("City of the firm's head office."),
        group="firm",
        max_length=100,
        first=True,
    ),
)

BY_NAME: Mapping[str, Field] = {f.name: f for f in REGISTRY}


def fields_of(*kinds: str) -> tuple[Field, ...]:
    """The fields of the given kinds, in registry order.

    Examples
    --------
    >>> [f.name for f in fields_of("money", "count")]
    ['investment_usd', 'employees']
    """
    return tuple(f for f in REGISTRY if f.kind in kinds)


def form_groups() -> list[tuple[str, str, str, tuple[Field, ...]]]:
    """(group, legend msgid, layout class, fields) of the profile forms, the ``first`` fields leading each group.

    Examples
    --------
    >>> [(g, [f.name for f in fs]) for g, _, _, fs in form_groups()][1]
    ('size', ['investment_usd', 'employees'])
    """
    out = []
    for group, legend, layout in FORM_GROUPS:
        members = [f for f in REGISTRY if f.group == group]
        out.append((group, legend, layout, tuple(sorted(members, key=lambda f: not f.first))))
    return out


def check_registry() -> None:
    """Raise ``ValueError`` when the registry is inconsistent (run by the tests).

    Every field has a known kind and group, and a label and an alias tuple in every language.
    """
    groups = {g for g, _, _ in FORM_GROUPS}
    for f in REGISTRY:
        if f.kind not in KINDS:
            raise ValueError(f"{f.name}: unknown kind {f.kind!r}; expected one of {KINDS}")
        if f.group and f.group not in groups:
            raise ValueError(f"{f.name}: unknown form group {f.group!r}")
        missing = [lang for lang in LANGS if not f.labels.get(lang)]
        if missing:
            raise ValueError(f"{f.name}: no label in {missing}")
        if set(f.aliases) - set(LANGS):
            raise ValueError(f"{f.name}: aliases in unknown languages {sorted(set(f.aliases) - set(LANGS))}")
    if len(BY_NAME) != len(REGISTRY):
        raise ValueError("two fields share a name")
    if set(LANGUAGE_NAMES) != set(LANGS):
        raise ValueError("LANGUAGE_NAMES must name every language of LANGS")
