"""The membership timeline, drawn as SVG on the server: one bar per state (observer period
and membership period), chair terms marked on the bars, summits as vertical markers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

ROLES_QUERY = """
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
SELECT ?state ?label ?iso3 ?role ?start ?end ?uncertain WHERE {
  ?m org:organization <https://w3id.org/cica-kg/id/organization/CICA> ;
     org:role ?role ; org:member ?state ; schema:startDate ?start .
  VALUES ?role { cica:memberRole cica:observerRole cica:chairRole }
  ?state a cica:State ; rdfs:label ?label ; cica:iso3166Alpha3 ?iso3 .
  OPTIONAL { ?m schema:endDate ?end }
  OPTIONAL { ?m cica:uncertain ?uncertain }
}
"""

SUMMITS_QUERY = """
PREFIX cica: <https://w3id.org/cica-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
SELECT ?summit ?label ?ordinal ?start ?status WHERE {
  ?summit a cica:Summit ; rdfs:label ?label ; cica:ordinal ?ordinal ;
          schema:startDate ?start ; cica:eventStatus ?status .
}
"""

CICA = "https://w3id.org/cica-kg/ontology#"
COLORS = {"member": "#1f6fb2", "observer": "#9cc3e6", "chair": "#d9822b"}


@dataclass(frozen=True)
class Period:
    state: str
    label: str
    iso3: str
    role: str  # member, observer, chair
    start: dt.date
    end: dt.date | None
    uncertain: bool


@dataclass(frozen=True)
class Marker:
    label: str
    ordinal: int
    date: dt.date
    planned: bool


def periods(rows: list[dict[str, dict[str, str]]]) -> list[Period]:
    out = []
    for r in rows:
        role = r["role"]["value"].removeprefix(CICA).removesuffix("Role")
        out.append(
            Period(
                state=r["state"]["value"],
                label=r["label"]["value"],
                iso3=r["iso3"]["value"],
                role=role,
                start=dt.date.fromisoformat(r["start"]["value"]),
                end=dt.date.fromisoformat(r["end"]["value"]) if "end" in r else None,
                uncertain=r.get("uncertain", {}).get("value") == "true",
            )
        )
    return out


def markers(rows: list[dict[str, dict[str, str]]]) -> list[Marker]:
    return [
        Marker(
            r["label"]["value"],
            int(r["ordinal"]["value"]),
            dt.date.fromisoformat(r["start"]["value"]),
            r["status"]["value"].endswith("#planned"),
        )
        for r in rows
    ]


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
