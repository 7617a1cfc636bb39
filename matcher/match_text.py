"""Words for matches and incentive categories, in English, Russian and Vietnamese.

Labels of opportunities, components and rules live in the YAML files; the sentence frames
that hold them live here. :func:`reason_column` words the reasons of a whole batch with
Arrow (no Python loop per firm); the other helpers word one condition or one gap.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from ._datafile import label
from .explain import tenths_text
from .messages import FIELD_LABELS, format_number, message
from .opportunities import ASKS, COMPONENTS, Catalogue

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "none": "nothing in common",
        "or": " or ", "sector_in": "sector: {items}", "okved_in": "OKVED code under {items}",
        "location_in": "located in: {items}", "investment_min_vnd": "investment of at least {money}",
        "employees_min": "at least {count} employees", "commitment": "commitment to {field}",
        "confirm": "to confirm: {text}", "unknown": "not in the profile: {text}",
        "gap_investment_min_vnd": "qualifies if the investment reaches {money}",
        "gap_employees_min": "qualifies if the firm employs at least {count} people",
        "gap_commitment": "qualifies with a commitment to {field}",
        "gap_location_in": "qualifies if the project is located in: {items}",
        "gap_sector_in": "only for the sectors: {items}", "gap_okved_in": "only for OKVED codes under {items}",
        "vnd": "VND {bn} bn (about US${usd} m)",
        "qualifies": "you may qualify", "possible": "possible: the profile leaves something unknown",
        "not_yet": "not yet",
        "hi_tech_park": "a hi-tech park", "industrial_park": "an industrial park",
        "digital_zone": "a digital technology zone", "other": "elsewhere in Hanoi",
    },
    "ru": {
        "none": "ничего общего",
        "or": " или ", "sector_in": "отрасль: {items}", "okved_in": "код ОКВЭД в группе {items}",
        "location_in": "размещение: {items}", "investment_min_vnd": "инвестиции не менее {money}",
        "employees_min": "не менее {count} сотрудников", "commitment": "обязательство: {field}",
        "confirm": "уточнить: {text}", "unknown": "нет в профиле: {text}",
        "gap_investment_min_vnd": "подходит, если инвестиции достигнут {money}",
        "gap_employees_min": "подходит, если в компании не менее {count} сотрудников",
        "gap_commitment": "подходит при обязательстве: {field}",
        "gap_location_in": "подходит, если проект разместится: {items}",
        "gap_sector_in": "только для отраслей: {items}", "gap_okved_in": "только для кодов ОКВЭД {items}",
        "vnd": "{bn} млрд донгов (около {usd} млн долл. США)",
        "qualifies": "вероятно, подходите", "possible": "возможно: в профиле не хватает данных",
        "not_yet": "пока нет",
        "hi_tech_park": "технопарк", "industrial_park": "индустриальный парк",
        "digital_zone": "зона цифровых технологий", "other": "в другом месте Ханоя",
    },
    "vi": {
        "none": "không có điểm chung",
        "or": " hoặc ", "sector_in": "ngành: {items}", "okved_in": "mã OKVED thuộc {items}",
        "location_in": "đặt tại: {items}", "investment_min_vnd": "vốn đầu tư từ {money}",
        "employees_min": "ít nhất {count} lao động", "commitment": "cam kết {field}",
        "confirm": "cần xác nhận: {text}", "unknown": "hồ sơ chưa có: {text}",
        "gap_investment_min_vnd": "đủ điều kiện nếu vốn đầu tư đạt {money}",
        "gap_employees_min": "đủ điều kiện nếu doanh nghiệp có ít nhất {count} lao động",
        "gap_commitment": "đủ điều kiện nếu cam kết {field}",
        "gap_location_in": "đủ điều kiện nếu dự án đặt tại: {items}",
        "gap_sector_in": "chỉ dành cho các ngành: {items}", "gap_okved_in": "chỉ dành cho mã OKVED {items}",
        "vnd": "{bn} tỷ đồng (khoảng {usd} triệu USD)",
        "qualifies": "có thể đủ điều kiện", "possible": "có thể: hồ sơ còn thiếu thông tin",
        "not_yet": "chưa đủ",
        "hi_tech_park": "khu công nghệ cao", "industrial_park": "khu công nghiệp",
        "digital_zone": "khu công nghệ số tập trung", "other": "nơi khác ở Hà Nội",
    },
}

#: Bits of the ``missing`` mask of a match: which unknown answers it would have used.
MISSING_FIELDS = ("sectors", "investment_usd", *ASKS, "vietnam_presence")


def phrase(lang: str, key: str, **values: object) -> str:
    """The frame ``key`` in ``lang`` (English when unknown), filled in."""
    return PHRASES.get(lang, PHRASES["en"])[key].format(**values)


def vnd_text(vnd: float, usd_vnd: float, lang: str) -> str:
    """``VND 6,000 bn (about US$230.8 m)`` in the reader's language."""
    return phrase(lang, "vnd", bn=format_number(vnd / 1e9, lang), usd=format_number(vnd / usd_vnd / 1e6, lang, 1))


def missing_clause(mask: int, lang: str) -> str:
    """The "; missing: …" clause for a mask of :data:`MISSING_FIELDS` bits ("" when none)."""
    labels = FIELD_LABELS[lang if lang in FIELD_LABELS else "en"]
    names = [labels[f] if f != "sectors" else message(lang, "field_sector")
             for bit, f in enumerate(MISSING_FIELDS) if mask >> bit & 1]
    return "; " + message(lang, "missing", items=", ".join(names)) if names else ""


def missing_masks(catalogue: Catalogue, table, firms, index: NDArray[np.int64]) -> NDArray[np.int64]:
    """(n, k) masks of the unknown answers each match would have used (0 for an empty slot)."""
    mask = np.zeros(index.shape, dtype=np.int64)
    if table.m == 0:
        return mask
    safe = np.maximum(index, 0)
    mask |= (~firms.sector_known)[:, None].astype(np.int64)
    mask |= ((np.isnan(firms.investment_usd)[:, None] & ~np.isnan(table.capital_min[safe])) << 1)
    for b, field in enumerate(ASKS):
        asked = table.asks[b][safe] > 0
        if field == "local_partner":
            asked |= table.weights[COMPONENTS.index("partner")][safe] > 0
        mask |= ((firms.commitments[field] < 0)[:, None] & asked).astype(np.int64) << (2 + b)
    mask |= (firms.presence < 0)[:, None].astype(np.int64) << (2 + len(ASKS))
    return np.where(index >= 0, mask, 0)


def reason_column(catalogue: Catalogue, table, index: NDArray[np.int64], score: NDArray[np.int64],
                  contributions: NDArray[np.int64], masks: NDArray[np.int64], lang: str) -> pa.Array:
    """One reason per firm for one rank: ``Hoa Lac Hi-Tech Park — 87.5: sector fit +55.0, …; missing: …``.

    ``index``, ``score`` and ``masks`` are (n,) and ``contributions`` (n, n_components), for one
    column of :class:`~matcher.match.TopMatches`; a firm without a match there gets "".
    """
    names = pa.array([label(o.name, lang) for o in table.opportunities] + [""], pa.string())
    name = names.take(pa.array(np.where(index >= 0, index, table.m)))
    labels = catalogue.settings.labels
    pieces = []  # each ", label +points" or "" (Arrow's join skipping nulls drops an all-null column)
    for c, comp in enumerate(COMPONENTS):
        text = pc.binary_join_element_wise(", " + label(labels[comp], lang), tenths_text(contributions[:, c]), " +")
        pieces.append(pc.if_else(pa.array(contributions[:, c] > 0), text, ""))
    parts = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*pieces, ""), 2)
    parts = pc.if_else(pc.equal(pc.utf8_length(parts), 0), phrase(lang, "none"), parts)
    distinct, where = np.unique(masks, return_inverse=True)
    clauses = pa.array([missing_clause(int(m), lang) for m in distinct], pa.string()).take(pa.array(where.ravel()))
    joined = pc.binary_join_element_wise(name, " — ", tenths_text(score), ": ", parts, clauses, "")
    return pc.if_else(pa.array(index >= 0), joined, "")
