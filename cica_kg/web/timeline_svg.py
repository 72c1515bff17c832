"""The membership timeline drawn as SVG on the server: one bar per state (observer period
and membership period), chair terms marked on the bars, summits as vertical markers."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

from ..browse.timeline import Marker, Period

COLORS = {"member": "#1f6fb2", "observer": "#9cc3e6", "chair": "#d9822b"}


def svg(
    items: list[Period],
    summits: list[Marker],
    today: dt.date,
    link: str = "/id/state/{iso3}",
    title: str = "CICA membership timeline",
) -> str:
    """An accessible SVG chart: rows ordered by first membership, then first observer status."""
    first_year = min([p.start.year for p in items] + [1999])
    last_year = max([today.year + 1] + [m.date.year + 1 for m in summits])
    by_state: dict[str, list[Period]] = {}
    for p in items:
        by_state.setdefault(p.iso3, []).append(p)

    def order(code: str) -> tuple[dt.date, dt.date, str]:
        ps = by_state[code]
        member = min((p.start for p in ps if p.role == "member"), default=dt.date.max)
        other = min(p.start for p in ps)
        return (member, other, ps[0].label)

    codes = sorted(by_state, key=order)
    left, top, row_h, width = 150, 36, 18, 900
    span = (dt.date(last_year, 1, 1) - dt.date(first_year, 1, 1)).days
    height = top + row_h * len(codes) + 30

    def x(day: dt.date) -> float:
        return left + (day - dt.date(first_year, 1, 1)).days / span * (width - left - 10)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="timeline-title timeline-desc" class="timeline">',
        f'<title id="timeline-title">{escape(title)}</title>',
        f'<desc id="timeline-desc">{len(codes)} states; dark bars: full membership, light '
        "bars: observer status, orange marks: chairmanship, dashed lines: summits.</desc>",
    ]
    for year in range(first_year, last_year + 1):
        xx = x(dt.date(year, 1, 1))
        out.append(
            f'<line x1="{xx:.1f}" y1="{top - 6}" x2="{xx:.1f}" y2="{height - 24}" '
            'stroke="#e5e7eb" stroke-width="1"/>'
        )
        if year % 2 == 1 or year == first_year:
            out.append(
                f'<text x="{xx:.1f}" y="{height - 10}" font-size="10" text-anchor="middle" '
                f'fill="#4b5563">{year}</text>'
            )
    for m in summits:
        xx = x(m.date)
        dash = "2,3" if m.planned else "4,2"
        out.append(
            f'<g class="summit"><title>{escape(m.label)} ({m.date.isoformat()}'
            f"{', planned' if m.planned else ''})</title>"
            f'<line x1="{xx:.1f}" y1="{top - 14}" x2="{xx:.1f}" y2="{height - 24}" '
            f'stroke="#6b7280" stroke-dasharray="{dash}"/>'
            f'<text x="{xx:.1f}" y="{top - 18}" font-size="9" text-anchor="middle" '
            f'fill="#374151">S{m.ordinal}</text></g>'
        )
    for i, code in enumerate(codes):
        y = top + i * row_h
        ps = sorted(by_state[code], key=lambda p: ("observer", "member", "chair").index(p.role))
        href = quoteattr(link.format(iso3=code))
        out.append(f'<g class="state" data-iso3="{code}"><a href={href}>')
        out.append(
            f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end" '
            f'fill="#1b1f24">{escape(ps[0].label)}</text></a>'
        )
        for p in ps:
            x1, x2 = x(p.start), x(p.end or today)
            h, dy = (6, 5) if p.role == "chair" else (12, 2)
            end = p.end.isoformat() if p.end else "today"
            note = " (uncertain)" if p.uncertain else ""
            out.append(
                f'<rect class="{p.role}" x="{x1:.1f}" y="{y + dy}" width="{max(x2 - x1, 2):.1f}" '
                f'height="{h}" fill="{COLORS[p.role]}"><title>{escape(p.label)}: {p.role} '
                f"{p.start.isoformat()} to {end}{note}</title></rect>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
