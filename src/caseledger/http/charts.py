"""Bar charts of the statistics as inline SVG, rendered on the server (no script, nothing
fetched): one group of bars a key (a month, a department), one bar a measure."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from caseledger.readmodels.reports import StatRow

__all__ = ["MEASURES", "bar_chart"]

MEASURES = (
    ("received", "收件 received", "#4e79a7"),
    ("on_time", "按时 on time", "#59a14f"),
    ("early", "提前 early", "#8cd17d"),
    ("overdue", "超时 overdue", "#e15759"),
)


def bar_chart(rows: Sequence[StatRow], *, title: str) -> Markup:
    """A grouped bar chart of :data:`MEASURES` by each row's key."""
    bar, gap, top, left, height = 12, 18, 40, 40, 200
    group = bar * len(MEASURES) + gap
    width = max(left + max(1, len(rows)) * group, left + len(MEASURES) * 110) + 20
    peak = max([1, *(getattr(r, m) for r in rows for m, _, _ in MEASURES)])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{top + height + 90}" viewBox="0 0 {width} {top + height + 90}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + height}" x2="{width - 10}" y2="{top + height}" '
        'stroke="#333"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">{peak}</text>',
    ]
    for i, (_, label, colour) in enumerate(MEASURES):
        x = left + i * 110
        parts.append(f'<rect x="{x}" y="24" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="33" font-size="11">{escape(label)}</text>')
    for n, row in enumerate(rows):
        x0 = left + n * group + gap // 2
        for i, (measure, label, colour) in enumerate(MEASURES):
            value = getattr(row, measure)
            h = round(height * value / peak)
            parts.append(
                f'<rect x="{x0 + i * bar}" y="{top + height - h}" width="{bar - 1}" '
                f'height="{h}" fill="{colour}"><title>{escape(row.key)} {escape(label)}: '
                f"{value}</title></rect>"
            )
        cx, cy = x0 + group // 2 - gap // 2, top + height + 12
        parts.append(
            f'<text x="{cx}" y="{cy}" font-size="11" text-anchor="end" '
            f'transform="rotate(-35 {cx} {cy})">{escape(row.key)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
