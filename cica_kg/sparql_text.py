"""What a SPARQL request is, read from its text before it runs: its form (SELECT, ASK,
CONSTRUCT, DESCRIBE, or an update), whether it names its own dataset (FROM), and every
SERVICE it would call.

This is a lexer, not a parser: strings, IRIs and comments are recognised so keywords inside
them are ignored, and each SERVICE keyword's target is read from the next tokens. It errs on
the side of refusal: a SERVICE whose target cannot be resolved to an absolute IRI is
reported as unresolvable, and the engine refuses it. Oxigraph's own parser still has the
final word on syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

QUERY_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}
UPDATE_KEYWORDS = {
    "INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH",
}  # fmt: skip

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<pname>(?:[A-Za-z\u00C0-\uFFFF][\w\-.\u00B7\u00C0-\uFFFF]*)?:
              (?:[\w\u00C0-\uFFFF:%\-]|\\[_~.\-!$&'()*+,;=/?\#@%]|\.(?=[\w:%\-]))*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


@dataclass(frozen=True)
class ServiceCall:
    target: str  # the absolute IRI, or the variable / unresolvable text as written
    resolved: bool  # False for SERVICE ?var and for targets that cannot be resolved


@dataclass
class QueryInfo:
    form: str | None = None  # SELECT, CONSTRUCT, DESCRIBE, ASK, or the update keyword
    is_update: bool = False
    has_dataset_clause: bool = False  # FROM / FROM NAMED in the query itself
    services: list[ServiceCall] = field(default_factory=list)
    depth: int = 0  # deepest nesting of { ( [ brackets


def _decode_escapes(text: str) -> str:
    """SPARQL processes \\u and \\U escapes before parsing; so do we, so that an escaped
    keyword cannot slip past."""

    def repl(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF else m.group(0)

    return _UNICODE_ESCAPE.sub(repl, text)


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) for every significant token: whitespace and comments dropped."""
    out = []
    for m in _TOKEN.finditer(_decode_escapes(text)):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append((kind, m.group()))
    return out


def inspect_query(text: str, prefixes: dict[str, str] | None = None) -> QueryInfo:
    """Read the form, dataset clause and SERVICE calls of a query or update.

    `prefixes` are the prefixes the engine pre-declares, used when a SERVICE target is a
    prefixed name the query does not declare itself."""
    toks = tokens(text)
    info = QueryInfo(depth=nesting_depth(toks))
    known = dict(prefixes or {})
    base: str | None = None
    i = 0
    # Prologue: BASE and PREFIX declarations, then the form keyword.
    while i < len(toks):
        kind, value = toks[i]
        upper = value.upper()
        if kind == "word" and upper == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
            base = _resolve(toks[i + 1][1][1:-1], base)
            i += 2
        elif (
            kind == "word"
            and upper == "PREFIX"
            and i + 2 < len(toks)
            and toks[i + 1][0] == "pname"
            and toks[i + 2][0] == "iri"
        ):
            known[toks[i + 1][1][:-1]] = _resolve(toks[i + 2][1][1:-1], base) or ""
            i += 3
        else:
            if kind == "word" and (upper in QUERY_FORMS or upper in UPDATE_KEYWORDS):
                info.form = upper
                info.is_update = upper in UPDATE_KEYWORDS
            break
    # Later PREFIX declarations happen in updates ("...; PREFIX x: <> INSERT ...").
    for j in range(i, len(toks)):
        kind, value = toks[j]
        if kind != "word":
            continue
        upper = value.upper()
        if upper == "PREFIX" and j + 2 < len(toks) and toks[j + 1][0] == "pname":
            if toks[j + 2][0] == "iri":
                known[toks[j + 1][1][:-1]] = _resolve(toks[j + 2][1][1:-1], base) or ""
        elif upper == "FROM":
            info.has_dataset_clause = True
        elif upper == "SERVICE":
            info.services.append(_service_target(toks, j + 1, known, base))
    return info


def nesting_depth(toks: list[tuple[str, str]]) -> int:
    """The deepest bracket nesting: the parser recurses on it, and very deep nesting
    overflows its stack, so the engine refuses it first."""
    depth = deepest = 0
    for kind, value in toks:
        if kind == "other" and value in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "other" and value in "})]":
            depth -= 1
    return deepest


def _service_target(
    toks: list[tuple[str, str]], k: int, prefixes: dict[str, str], base: str | None
) -> ServiceCall:
    if k < len(toks) and toks[k][0] == "word" and toks[k][1].upper() == "SILENT":
        k += 1
    if k >= len(toks):
        return ServiceCall("(missing)", False)
    kind, value = toks[k]
    if kind == "iri":
        iri = _resolve(value[1:-1], base)
        return ServiceCall(iri or value, iri is not None)
    if kind == "pname":
        prefix, _, local = value.partition(":")
        if prefix in prefixes:
            local = re.sub(r"\\(.)", r"\1", local)
            return ServiceCall(prefixes[prefix] + local, True)
        return ServiceCall(value, False)
    return ServiceCall(value, False)


def _resolve(iri: str, base: str | None) -> str | None:
    """The absolute form of an IRI reference, or None if it is relative without a base."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", iri):
        return iri
    if base is None:
        return None
    return urljoin(base, iri)


def redirect_services(text: str, mapping: dict[str, str], prefixes: dict[str, str]) -> str:
    """The query with SERVICE targets in `mapping` replaced by their mapped IRIs (a mirror or
    a local stand-in of a remote endpoint). Run after the allowlist check, on the original
    IRIs. Text with \\u escapes is returned unchanged (its positions would shift)."""
    if not mapping or _UNICODE_ESCAPE.search(text):
        return text
    matches = [m for m in _TOKEN.finditer(text) if m.lastgroup not in ("ws", "comment")]
    known = dict(prefixes)
    for i, m in enumerate(matches[:-2]):
        if m.group().upper() == "PREFIX" and matches[i + 1].lastgroup == "pname":
            if matches[i + 2].lastgroup == "iri":
                known[matches[i + 1].group()[:-1]] = matches[i + 2].group()[1:-1]
    out, last = [], 0
    for i, m in enumerate(matches):
        if m.lastgroup != "word" or m.group().upper() != "SERVICE":
            continue
        k = i + 1
        if k < len(matches) and matches[k].group().upper() == "SILENT":
            k += 1
        if k >= len(matches):
            continue
        target = matches[k]
        iri = None
        if target.lastgroup == "iri":
            iri = target.group()[1:-1]
        elif target.lastgroup == "pname":
            prefix, _, local = target.group().partition(":")
            iri = known[prefix] + local if prefix in known else None
        if iri in mapping:
            out.append(text[last : target.start()] + f"<{mapping[iri]}>")
            last = target.end()
    out.append(text[last:])
    return "".join(out)


def substitute(text: str, bindings: dict[str, str]) -> str:
    """The query with each variable in `bindings` replaced by an RDF term (N-Triples syntax,
    as pyoxigraph's str() writes it), for engines that have no substitution API (remote
    SPARQL endpoints). In the SELECT clause `?v` becomes `(term AS ?v)`, so the column stays.

    The terms come from typed, validated values (canned-query parameters), serialized by
    pyoxigraph, so nothing the user typed reaches the query text unescaped."""
    if not bindings:
        return text
    out, last, in_projection, in_modifier = [], 0, False, False
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        word = value.upper() if kind == "word" else ""
        if word == "SELECT":
            in_projection = True
        elif in_projection and (value == "{" or word in ("WHERE", "FROM")):
            in_projection = False
        if word == "BY":  # ORDER BY / GROUP BY: a bare term is no condition, (term) is
            in_modifier = True
        elif word in ("LIMIT", "OFFSET", "VALUES", "HAVING") or value in ("{", "}"):
            in_modifier = False
        if kind == "var" and value[1:] in bindings:
            term = bindings[value[1:]]
            if in_projection:
                replacement = f"({term} AS {value})"
            elif in_modifier:
                replacement = f"({term})"
            else:
                replacement = term
            out.append(text[last : m.start()] + replacement)
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def with_prefixes(text: str, prefixes: dict[str, str]) -> str:
    """The query with PREFIX declarations added for the known prefixes it does not declare
    (remote engines do not pre-declare ours)."""
    declared = {
        toks[i + 1][1][:-1]
        for toks in [tokens(text)]
        for i in range(len(toks) - 1)
        if toks[i][0] == "word" and toks[i][1].upper() == "PREFIX" and toks[i + 1][0] == "pname"
    }
    lines = [f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items() if p not in declared]
    return "".join(lines) + text
