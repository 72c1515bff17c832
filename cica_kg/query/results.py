"""Write query answers: SELECT/ASK in the four SPARQL result formats, CONSTRUCT/DESCRIBE in
the RDF formats.

SELECT results are written here rather than by pyoxigraph's serializer so that a result can
be cut at the row limit and still be a complete, valid document."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ..formats import Format

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = Sequence[Term | None]


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {
        "type": "triple",
        "value": {
            "subject": _json_term(term.subject),
            "predicate": _json_term(term.predicate),
            "object": _json_term(term.object),
        },
    }


def _text(value: str) -> str:
    """XML character data; a CR is written as a reference, or XML parsers turn it into LF."""
    return escape(value, {"\r": "&#13;"})


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_text(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_text(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{_text(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            dt = quoteattr(term.datatype.value)
            return f"<literal datatype={dt}>{_text(term.value)}</literal>"
        return f"<literal>{_text(term.value)}</literal>"
    return (
        f"<triple><subject>{_xml_term(term.subject)}</subject>"
        f"<predicate>{_xml_term(term.predicate)}</predicate>"
        f"<object>{_xml_term(term.object)}</object></triple>"
    )


def _tsv_term(term: Term) -> str:
    """An N-Triples term; a triple term in the SPARQL 1.2 syntax `<<( s p o )>>`."""
    if isinstance(term, ox.Triple):
        parts = (term.subject, term.predicate, term.object)
        return "<<( " + " ".join(_tsv_term(t) for t in parts) + " )>>"
    return str(term)


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def write_solutions(variables: Sequence[str], rows: Sequence[Row], fmt: Format) -> bytes:
    """A SELECT result in `fmt` (json, xml, csv, tsv)."""
    if fmt.name == "json":
        bindings = [
            {v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None}
            for row in rows
        ]
        doc = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    if fmt.name == "xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
        out.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in variables))
        out.append("</head><results>")
        for row in rows:
            out.append("<result>")
            for v, t in zip(variables, row, strict=True):
                if t is not None:
                    out.append(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>")
            out.append("</result>")
        out.append("</results></sparql>\n")
        return "".join(out).encode()
    if fmt.name == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_value(t) for t in row] for row in rows)
        return buf.getvalue().encode()
    if fmt.name == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        lines.extend("\t".join("" if t is None else _tsv_term(t) for t in row) for row in rows)
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(f"{fmt.name} is not a result format")


def write_boolean(value: bool, fmt: Format) -> bytes:
    """An ASK result in `fmt`."""
    text = "true" if value else "false"
    if fmt.name == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt.name == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head/><boolean>{text}</boolean></sparql>\n"
        ).encode()
    if fmt.name == "csv":
        return f"_askResult\r\n{text}\r\n".encode()
    return f"?_askResult\n{text}\n".encode()


def write_triples(
    triples: Sequence[ox.Triple], fmt: Format, prefixes: dict[str, str] | None = None
) -> bytes:
    """CONSTRUCT/DESCRIBE triples in an RDF format (dataset formats put them in the default
    graph)."""
    assert fmt.rdf is not None, fmt
    # Grouped by subject, so Turtle and TriG can use ; and , abbreviations.
    triples = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    use_prefixes = prefixes if fmt.name in ("ttl", "trig", "rdfxml") else None
    if fmt.kind == "dataset":
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
        return ox.serialize(quads, format=fmt.rdf, prefixes=use_prefixes) or b""
    return ox.serialize(triples, format=fmt.rdf, prefixes=use_prefixes) or b""


def count_rows(body: bytes, fmt: Format) -> int:
    """The rows of a SELECT result as pyoxigraph serialized it (all four formats escape
    what could be mistaken for a row's start: XML `<`, TSV newlines; JSON and CSV are
    parsed)."""
    if fmt.name == "json":
        return len(json.loads(body)["results"]["bindings"])
    if fmt.name == "xml":
        return body.count(b"<result>") + body.count(b"<result/>")
    if fmt.name == "tsv":
        return body.count(b"\n") - 1  # a header line, then one line per row
    return sum(1 for _ in csv.reader(io.StringIO(body.decode(), newline=""))) - 1
