"""Duplicate leads: the keys that tell the same firm apart from its spelling, and the merge of two leads.

A lead's keys are written by the model on every save (see ``models._fold_keys``): its name without
legal form, quotes and punctuation (``ООО «Роботех»``, ``Robotech LLC`` and ``Công ty TNHH Robotech``
all give ``robotech``), its INN and OGRN (digits only), its website's domain and its e-mail's domain
(free mail services such as mail.ru or gmail.com say nothing about the firm and are left out).
Two leads sharing any key are shown to staff as possible duplicates; staff decide and merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .search import fold

#: Legal forms, folded (see :func:`web.search.fold`), longest first so "cong ty co phan" goes before "cong ty".
LEGAL_FORMS = sorted(
    (
        "общество с ограниченнои ответственностью",
        "публичное акционерное общество",
        "закрытое акционерное общество",
        "открытое акционерное общество",
        "акционерное общество",
        "индивидуальныи предприниматель",
        "ооо",
        "оао",
        "зао",
        "пао",
        "ао",
        "нао",
        "ип",
        "нпо",
        "нпп",
        "фгуп",
        "гуп",
        "муп",
        "ано",
        "limited liability company",
        "joint stock company",
        "public limited company",
        "limited",
        "incorporated",
        "corporation",
        "llc",
        "jsc",
        "pjsc",
        "cjsc",
        "ojsc",
        "ltd",
        "plc",
        "inc",
        "corp",
        "co",
        "gmbh",
        "ag",
        "sa",
        "cong ty trach nhiem huu han",
        "cong ty co phan",
        "cong ty tnhh",
        "trach nhiem huu han",
        "mot thanh vien",
        "cong ty",
        "tnhh",
        "ctcp",
        "mtv",
        "cp",
    ),
    key=len,
    reverse=True,
)
_FORMS = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(f) for f in LEGAL_FORMS) + r")(?!\w)")
#: Mail services anyone can use: an address there does not identify a firm.
FREE_MAIL = frozenset(
    (
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "mail.ru",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "internet.ru",
        "yandex.ru",
        "ya.ru",
        "yandex.com",
        "rambler.ru",
        "vk.com",
        "qq.com",
        "163.com",
        "yahoo.com.vn",
    )
)


def name_key(name: str | None) -> str:
    """The firm's name folded, without legal form, quotes or punctuation: what two spellings share.

    Examples
    --------
    >>> name_key('ООО «Роботех»'), name_key("Robotech, LLC"), name_key("Công ty TNHH Điện tử Hà Nội")
    ('роботех', 'robotech', 'dien tu ha noi')
    """
    words = re.sub(r"[^\w]+", " ", fold(name)).replace("_", " ")
    return " ".join(_FORMS.sub(" ", " ".join(words.split())).split())


def digits(value: str | None) -> str:
    """Only the digits of an identifier such as an INN or OGRN (``"77 07 083893"`` -> ``"7707083893"``)."""
    return re.sub(r"\D", "", value or "")


def web_domain(website: str | None) -> str:
    """The host of a website without ``www.``: ``https://www.Robotech.ru/about`` -> ``robotech.ru``."""
    text = (website or "").strip().lower()
    if not text:
        return ""
    host = urlsplit(text if "//" in text else "//" + text).hostname or ""
    return host.removeprefix("www.")


def mail_domain(email: str | None) -> str:
    """The domain of a firm's own e-mail address; empty for free mail services and non-addresses."""
    _user, at, domain = (email or "").strip().lower().rpartition("@")
    domain = domain.strip(". >")
    return "" if not at or "." not in domain or domain in FREE_MAIL else domain


@dataclass(frozen=True)
class Match:
    """A lead that looks like another one, and why (reason codes: name, inn, ogrn, website, email)."""

    lead: object
    reasons: tuple[str, ...]


def reasons(a, b) -> tuple[str, ...]:
    """Which keys two leads share."""
    found = [key for key in ("name_key", "inn", "ogrn") if getattr(a, key) and getattr(a, key) == getattr(b, key)]
    out = ["name" if key == "name_key" else key for key in found]
    domains_a = {d for d in (a.web_domain, a.mail_domain) if d}
    if domains_a & {d for d in (b.web_domain, b.mail_domain) if d}:
        out.append("domain")
    return tuple(out)


#: Extra CSV/JSON columns read as firm identifiers (header case ignored).
IDENTIFIER_COLUMNS = {"inn": "inn", "инн": "inn", "ogrn": "ogrn", "огрн": "ogrn"}


def identifiers_from(profile) -> dict[str, str]:
    """INN and OGRN (digits) from a profile's extra columns ``inn``/``ИНН``, ``ogrn``/``ОГРН``, where given."""
    out: dict[str, str] = {}
    for key, value in profile.items():
        field = IDENTIFIER_COLUMNS.get(str(key).strip().casefold())
        if field and digits(str(value)):
            out.setdefault(field, digits(str(value)))
    return out


def keys_of(lead) -> dict[str, str | None]:
    """The duplicate keys of a lead as stored in its columns (``None`` where it has none, as an anonymised lead)."""
    if lead.anonymised_at is not None:
        return {"name_key": None, "web_domain": None, "mail_domain": None}
    return {
        "name_key": name_key(lead.name) or None,
        "web_domain": web_domain(lead.website) or None,
        "mail_domain": mail_domain(lead.contact_email) or None,
    }


KEY_COLUMNS = ("name_key", "inn", "ogrn", "web_domain", "mail_domain")


#: Lead columns a merge fills on the kept lead where it has none (the contract's fields and the identifiers).
MERGED_FIELDS = (
    "ext_id",
    "description",
    "okved",
    "sectors",
    "investment_usd",
    "employees",
    "tech_transfer",
    "training",
    "local_partner",
    "green",
    "esg_report",
    "vietnam_presence",
    "website",
    "contact_email",
    "city",
    "inn",
    "ogrn",
)


def merge_plan(keep, gone) -> list[str]:
    """The fields of ``keep`` that the merge fills from ``gone`` (empty on ``keep``, given on ``gone``)."""
    return [f for f in MERGED_FIELDS if not getattr(keep, f) and getattr(gone, f)]
