"""Every media type the project reads or writes, in one table, and Accept negotiation.

The endpoint, the pages, the exporter and the CLI all choose formats here."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .errors import NotAcceptableError, UnknownFormatError


@dataclass(frozen=True)
class Format:
    name: str  # the `format=` value and the CLI name
    media_type: str  # what we send in Content-Type
    kind: str  # "results" (SELECT/ASK), "graph" (triples) or "dataset" (quads)
    extension: str
    aliases: tuple[str, ...] = ()  # other media types that select this format
    names: tuple[str, ...] = ()  # other `format=` values
    rdf: ox.RdfFormat | None = None

    @property
    def content_type(self) -> str:
        textual = self.media_type.startswith("text/") or self.media_type.endswith(
            ("+json", "+xml", "/json", "/xml", "n-triples", "n-quads", "trig", "ld+json")
        )
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type


RESULT_FORMATS = (
    Format("json", "application/sparql-results+json", "results", "srj",
           aliases=("application/json",)),
    Format("xml", "application/sparql-results+xml", "results", "srx",
           aliases=("application/xml", "text/xml")),
    Format("csv", "text/csv", "results", "csv"),
    Format("tsv", "text/tab-separated-values", "results", "tsv"),
)  # fmt: skip

GRAPH_FORMATS = (
    Format("ttl", "text/turtle", "graph", "ttl", aliases=("application/x-turtle",),
           names=("turtle",), rdf=ox.RdfFormat.TURTLE),
    Format("nt", "application/n-triples", "graph", "nt", aliases=("text/plain",),
           names=("ntriples", "n-triples"), rdf=ox.RdfFormat.N_TRIPLES),
    Format("jsonld", "application/ld+json", "graph", "jsonld", names=("json-ld", "json"),
           rdf=ox.RdfFormat.JSON_LD),
    Format("rdfxml", "application/rdf+xml", "graph", "rdf", names=("rdf", "xml"),
           rdf=ox.RdfFormat.RDF_XML),
)  # fmt: skip

DATASET_FORMATS = (
    Format("trig", "application/trig", "dataset", "trig", rdf=ox.RdfFormat.TRIG),
    Format("nq", "application/n-quads", "dataset", "nq", names=("nquads", "n-quads"),
           rdf=ox.RdfFormat.N_QUADS),
)  # fmt: skip

HTML = Format("html", "text/html", "page", "html")

ALL_FORMATS = RESULT_FORMATS + GRAPH_FORMATS + DATASET_FORMATS


def offered_for(form: str | None) -> list[Format]:
    """Formats a query's result can be written in, the default first."""
    if form in ("SELECT", "ASK"):
        return list(RESULT_FORMATS)
    return list(GRAPH_FORMATS + DATASET_FORMATS)


def by_name(value: str, offered: list[Format]) -> Format:
    """The format a `format=` parameter (or a media type given there) names."""
    wanted = value.strip().lower()
    for fmt in offered:
        if wanted in (fmt.name, fmt.media_type, fmt.extension, *fmt.names, *fmt.aliases):
            return fmt
    names = ", ".join(f.name for f in offered)
    raise UnknownFormatError(f"unknown format {value!r}; use one of: {names}")


def by_extension(extension: str, offered: list[Format]) -> Format | None:
    for fmt in offered:
        if extension in (fmt.extension, fmt.name, *fmt.names):
            return fmt
    return None


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """[(media range, q)] from an Accept header; malformed parts are skipped."""
    ranges = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media, q))
    return ranges


def _quality(fmt: Format, ranges: list[tuple[str, float]]) -> float:
    """q of the most specific range that matches the format (RFC 9110 §12.5.1)."""
    best: tuple[int, float] | None = None
    kind = fmt.media_type.split("/")[0]
    for rng, q in ranges:
        # Aliases (text/xml for SPARQL XML…) count only when named exactly, so text/* means
        # the format whose own type is text/…
        if rng == fmt.media_type or rng in fmt.aliases:
            specificity = 3
        elif rng == f"{kind}/*":
            specificity = 2
        elif rng == "*/*":
            specificity = 1
        else:
            continue
        if best is None or specificity > best[0] or (specificity == best[0] and q > best[1]):
            best = (specificity, q)
    return best[1] if best else 0.0


def negotiate(accept: str | None, offered: list[Format]) -> Format:
    """The offered format the client likes best; the first offered if it states nothing.

    Ties go to the server's order. Raises NotAcceptableError when nothing offered is
    acceptable."""
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0]
    scored = [(_quality(fmt, ranges), -i, fmt) for i, fmt in enumerate(offered)]
    q, _, fmt = max(scored, key=lambda t: (t[0], t[1]))
    if q <= 0:
        types = ", ".join(f.media_type for f in offered)
        raise NotAcceptableError(
            f"none of the requested media types is available; offered: {types}"
        )
    return fmt


def prefers_html(accept: str | None, others: list[Format]) -> bool:
    """True when a client (a browser) ranks text/html above every format in `others`."""
    ranges = parse_accept(accept)
    html_q = _quality(HTML, [(r, q) for r, q in ranges if r != "*/*"])
    if html_q <= 0:
        return False
    return all(_quality(f, ranges) < html_q for f in others)
