"""Geometry of server-rendered SVG charts (the templates only draw what is computed here)."""

from __future__ import annotations

from typing import Any

#: At most this many leads in a slope chart: those ranked best under either version.
MAX_LEADS = 30
STEP, TOP, LEFT, RIGHT = 22, 30, 230, 470


def slope_chart(rows: list[dict[str, Any]], names: dict[int, Any], top_k: int,
                max_leads: int = MAX_LEADS) -> dict[str, Any]:
    """A slope chart of ranks under A (left) and B (right): one line per lead, the top-k cut on each side.

    Leads sit one row apart in rank order on each side (tied ranks on separate rows), so labels never overlap.
    """
    shown = sorted(rows, key=lambda r: (min(r["rank_a"], r["rank_b"]), r["rank_b"]))[:max_leads]
    slot_a = {r["id"]: i for i, r in enumerate(sorted(shown, key=lambda r: (r["rank_a"], r["rank_b"])))}
    slot_b = {r["id"]: i for i, r in enumerate(sorted(shown, key=lambda r: (r["rank_b"], r["rank_a"])))}

    def y(slot: float) -> float:
        return round(TOP + slot * STEP, 1)

    lines = [{"name": getattr(names.get(r["id"]), "name", str(r["id"])), "rank_a": r["rank_a"], "rank_b": r["rank_b"],
              "y1": y(slot_a[r["id"]]), "y2": y(slot_b[r["id"]]),
              "kind": "up" if r["change"] > 0 else "down" if r["change"] < 0 else "same"} for r in shown]
    in_a = sum(r["rank_a"] <= top_k for r in shown)
    in_b = sum(r["rank_b"] <= top_k for r in shown)
    cut = {"a": y(in_a - 0.5) if 0 < in_a < len(shown) else None,
           "b": y(in_b - 0.5) if 0 < in_b < len(shown) else None}
    return {"width": 700, "height": y(len(shown)) + 10, "left": LEFT, "right": RIGHT, "lines": lines,
            "cut": cut, "label_y": TOP - 14}
