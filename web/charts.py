"""Geometry of server-rendered SVG charts (the templates only draw what is computed here)."""

from __future__ import annotations

from typing import Any

#: At most this many leads in a slope chart: those ranked best under either version.
MAX_LEADS = 30
STEP, TOP, LEFT, RIGHT = 22, 30, 230, 470


def slope_chart(
    rows: list[dict[str, Any]], names: dict[int, Any], top_k: int, max_leads: int = MAX_LEADS
) -> dict[str, Any]:
    """A slope chart of ranks under A (left) and B (right): one line per lead, the top-k cut on each side.

    Leads sit one row apart in rank order on each side (tied ranks on separate rows), so labels never overlap.
    """
    shown = sorted(rows, key=lambda r: (min(r["rank_a"], r["rank_b"]), r["rank_b"]))[:max_leads]
    slot_a = {r["id"]: i for i, r in enumerate(sorted(shown, key=lambda r: (r["rank_a"], r["rank_b"])))}
    slot_b = {r["id"]: i for i, r in enumerate(sorted(shown, key=lambda r: (r["rank_b"], r["rank_a"])))}

    def y(slot: float) -> float:
        return round(TOP + slot * STEP, 1)

    lines = [
        {
            "name": getattr(names.get(r["id"]), "name", str(r["id"])),
            "rank_a": r["rank_a"],
            "rank_b": r["rank_b"],
            "y1": y(slot_a[r["id"]]),
            "y2": y(slot_b[r["id"]]),
            "kind": "up" if r["change"] > 0 else "down" if r["change"] < 0 else "same",
        }
        for r in shown
    ]
    in_a = sum(r["rank_a"] <= top_k for r in shown)
    in_b = sum(r["rank_b"] <= top_k for r in shown)
    cut = {"a": y(in_a - 0.5) if 0 < in_a < len(shown) else None, "b": y(in_b - 0.5) if 0 < in_b < len(shown) else None}
    return {
        "width": 700,
        "height": y(len(shown)) + 10,
        "left": LEFT,
        "right": RIGHT,
        "lines": lines,
        "cut": cut,
        "label_y": TOP - 14,
    }


# --- overview charts: horizontal bars (label above each bar) and columns ------------------------------
#: Width of an overview chart's viewBox. Narrow on purpose: on a 390 px phone the chart is drawn at
#: about this size, so 12-13 px text stays 12-13 px (a wider box would shrink it to ~6 px).
WIDTH = 320
BAR_ROW, BAR_HEIGHT, VALUE_ROOM = 38, 14, 96
COLUMN_TOP, COLUMN_HEIGHT, AXIS_ROOM = 18, 120, 34


def bar_chart(rows: list[dict[str, Any]], full: float | None = None) -> dict[str, Any]:
    """Horizontal bars, one per row (``label``, ``value``, ``text``, optional ``href``, ``kind``).

    A bar of value ``full`` spans the track (by default the largest value does). Each bar gets its
    label above it and its ``text`` in a column right of the track.
    """
    top = full or max((r["value"] for r in rows), default=0) or 1
    track = WIDTH - VALUE_ROOM
    bars = []
    for i, r in enumerate(rows):
        w = round(r["value"] / top * track, 1)
        y = i * BAR_ROW
        bars.append(
            {
                **r,
                "top": y,
                "label_y": y + 12,
                "bar_y": y + 18,
                "w": max(w, 1.5 if r["value"] else 0),
                "value_y": y + 18 + BAR_HEIGHT - 2,
            }
        )
    return {
        "width": WIDTH,
        "height": len(rows) * BAR_ROW + 4,
        "bars": bars,
        "bar_height": BAR_HEIGHT,
        "track": track,
        "value_x": track + 6,
        "row": BAR_ROW,
    }


def column_chart(columns: list[dict[str, Any]], label_every: int = 1) -> dict[str, Any]:
    """Vertical columns (``label``, ``value``, optional ``text``) on a baseline, tallest = full height.

    Every ``label_every``-th column, counted back from the last, is labelled under the axis (no overlaps).
    A label starts at its column's left edge, except the last column's: that one ends at the column's
    right edge, so a label wider than the column (a date) stays inside the box instead of being cut off.
    """
    top = max((c["value"] for c in columns), default=0) or 1
    slot = WIDTH / max(len(columns), 1)
    base = COLUMN_TOP + COLUMN_HEIGHT
    out = []
    for i, c in enumerate(columns):
        h = round(c["value"] / top * COLUMN_HEIGHT, 1)
        x = round(i * slot + slot * 0.12, 1)
        w = round(slot * 0.76, 1)
        last = i == len(columns) - 1
        out.append(
            {
                **c,
                "x": x,
                "w": w,
                "y": round(base - h, 1),
                "h": h,
                "mid": round(i * slot + slot / 2, 1),
                "value_y": round(base - h - 4, 1),
                "show_label": (len(columns) - 1 - i) % label_every == 0,
                "label_x": round(x + w, 1) if last else x,
                "label_anchor": "end" if last else "start",
            }
        )  # the latest is always labelled
    return {"width": WIDTH, "height": base + AXIS_ROOM, "columns": out, "base": base, "label_y": base + 16}
