"""What a SPARQL request is, read from its text before it runs: its form (SELECT, ASK,
CONSTRUCT, DESCRIBE, or an update), whether it names its own dataset (FROM), every SERVICE
it would call, and how deeply it nests.

This is a lexer, not a parser. It follows the SPARQL 1.1 grammar's terminals (IRIREF,
PNAME_NS/PNAME_LN with the exact PN_CHARS classes, strings, variables, comments) the way
Oxigraph reads them: `\\u` escapes count only inside strings and IRIs, and a keyword written
against a prefixed name (`SERVICE:x`, `FROM:g`, `PREFIX:<…>`) is the keyword and the name.
It errs on the side of refusal: text it cannot read safely (a stray quote or backslash) is
reported as unreadable, and a SERVICE whose target it cannot resolve to an absolute IRI as
unresolvable; the engine refuses both. Oxigraph's own parser has the final word on syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

QUERY_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}
UPDATE_KEYWORDS = {
    "INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH",
}  # fmt: skip
# Keywords that Oxigraph reads as such even when a prefixed name follows without a space
# ("SERVICE:x" is SERVICE then ":x"); the ones that matter here are split off.
KEYWORDS = QUERY_FORMS | UPDATE_KEYWORDS | {"BASE", "PREFIX", "SERVICE", "SILENT", "FROM", "NAMED"}

# SPARQL 1.1 grammar, section 19.8.
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = (
    rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_ECHAR = r"\\[tbnrf\"'\\]"

_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''
              |\"\"\"(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*\"\"\"
              |'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'
              |"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*")
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
  | (?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
  | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UNICODE_ESCAPE = re.compile(_UCHAR)
# An absolute IRI as a user may type it (a scheme, then no character an IRIREF forbids).
ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|^`\\]*")


@dataclass(frozen=True)
class Token:
    kind: str  # string, iri, var, pname, word, other
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class ServiceCall:
    target: str  # the absolute IRI, or the variable / unresolvable text as written
    resolved: bool  # False for SERVICE ?var and for targets that cannot be resolved
    start: int = 0  # where the target is written in the query text
    end: int = 0


@dataclass
class QueryInfo:
    form: str | None = None  # SELECT, CONSTRUCT, DESCRIBE, ASK, or the update keyword
    is_update: bool = False
    has_dataset_clause: bool = False  # FROM / FROM NAMED in the query itself
    services: list[ServiceCall] = field(default_factory=list)
    depth: int = 0  # deepest nesting of { ( [ brackets
    unreadable: str = ""  # why the text cannot be read safely, if it cannot
    # Where a SELECT's top-level LIMIT is or may go (limited_select), None when unknown.
    limit_site: LimitSite | None = None


@dataclass(frozen=True)
class LimitSite:
    own: int | None  # the query's own top-level LIMIT
    number: tuple[int, int]  # where its number is written; else where a LIMIT may go


def _unescape(text: str) -> str:
    return _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group()[2:], 16)), text)


def tokens(text: str) -> list[Token]:
    """The significant tokens (no whitespace, no comments), keywords split from prefixed
    names they are written against."""
    out = []
    for m in _TOKEN.finditer(text):
        kind, value, start = m.lastgroup or "other", m.group(), m.start()
        if kind in ("ws", "comment"):
            continue
        if kind == "pname":
            prefix = value.split(":", 1)[0]
            if prefix.upper() in KEYWORDS:
                out.append(Token("word", prefix, start, start + len(prefix)))
                out.extend(tokens_at(text, start + len(prefix), m.end()))
                continue
        out.append(Token(kind, value, start, m.end()))
    return out


def tokens_at(text: str, start: int, end: int) -> list[Token]:
    """Tokens of text[start:end], positions in `text`."""
    return [Token(t.kind, t.value, t.start + start, t.end + start) for t in tokens(text[start:end])]


def inspect_query(
    text: str, prefixes: dict[str, str] | None = None, base_iri: str | None = None
) -> QueryInfo:
    """Read the form, dataset clause, SERVICE calls and nesting of a query or update.

    `prefixes` are the prefixes the engine pre-declares, used when a SERVICE target is a
    prefixed name the query does not declare itself; `base_iri` is the base the engine
    resolves relative IRIs against until the query's own BASE (the same for both, so a
    relative SERVICE target is judged as the engine would call it)."""
    toks = tokens(text)
    info = QueryInfo(depth=nesting_depth(toks))
    stray = [t for t in toks if t.kind == "other" and t.value in "\"'\\"]
    if stray:
        info.unreadable = f"unexpected {stray[0].value!r} at character {stray[0].start + 1}"
    known = dict(prefixes or {})
    base: str | None = base_iri
    i = 0
    while i < len(toks):  # the prologue, then the form keyword
        t = toks[i]
        upper = t.value.upper() if t.kind == "word" else ""
        if upper == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = _resolve(_iri(toks[i + 1]), base)
            i += 2
        elif _declares_prefix(toks, i):
            known[toks[i + 1].value[:-1]] = _resolve(_iri(toks[i + 2]), base) or ""
            i += 3
        else:
            if upper in QUERY_FORMS or upper in UPDATE_KEYWORDS:
                info.form = upper
                info.is_update = upper in UPDATE_KEYWORDS
            break
    for j in range(i, len(toks)):
        t = toks[j]
        if t.kind != "word":
            continue
        upper = t.value.upper()
        if _declares_prefix(toks, j):  # updates may declare prefixes after a ";"
            known[toks[j + 1].value[:-1]] = _resolve(_iri(toks[j + 2]), base) or ""
        elif upper == "BASE" and j + 1 < len(toks) and toks[j + 1].kind == "iri":
            base = _resolve(_iri(toks[j + 1]), base)
        elif upper == "FROM":
            info.has_dataset_clause = True
        elif upper == "SERVICE":
            info.services.append(_service_target(toks, j + 1, known, base))
    if not info.unreadable and info.form == "SELECT":
        info.limit_site = _limit_site(text, toks)
    return info


def _declares_prefix(toks: list[Token], i: int) -> bool:
    return (
        toks[i].kind == "word"
        and toks[i].value.upper() == "PREFIX"
        and i + 2 < len(toks)
        and toks[i + 1].kind == "pname"
        and toks[i + 1].value.endswith(":")
        and toks[i + 2].kind == "iri"
    )


def _iri(token: Token) -> str:
    return _unescape(token.value[1:-1])


def nesting_depth(toks: list[Token]) -> int:
    """The deepest bracket nesting: the parser recurses on it, and very deep nesting
    overflows its stack, so the engine refuses it first."""
    depth = deepest = 0
    for t in toks:
        if t.kind == "other" and t.value in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif t.kind == "other" and t.value in "})]":
            depth -= 1
    return deepest


def _service_target(
    toks: list[Token], k: int, prefixes: dict[str, str], base: str | None
) -> ServiceCall:
    if k < len(toks) and toks[k].kind == "word" and toks[k].value.upper() == "SILENT":
        k += 1
    if k >= len(toks):
        return ServiceCall("(missing)", False)
    t = toks[k]
    if t.kind == "iri":
        iri = _resolve(_iri(t), base)
        return ServiceCall(iri or t.value, iri is not None, t.start, t.end)
    if t.kind == "pname":
        prefix, _, local = t.value.partition(":")
        if prefix in prefixes and prefixes[prefix]:
            local = re.sub(r"\\(.)", r"\1", local)
            return ServiceCall(prefixes[prefix] + local, True, t.start, t.end)
    return ServiceCall(t.value, False, t.start, t.end)


def _resolve(iri: str, base: str | None) -> str | None:
    """The absolute form of an IRI reference, or None if it is relative without a base."""
    if ABSOLUTE_IRI.match(iri):
        return iri
    if base is None:
        return None
    return urljoin(base, iri)


def redirect_services(text: str, info: QueryInfo, mapping: dict[str, str]) -> str:
    """The query with the SERVICE targets that `info` resolved to a key of `mapping`
    written as the mapped IRI instead (a mirror or a local stand-in of a remote endpoint).
    The allowlist is checked on the original targets, before this."""
    out, last = [], 0
    for call in sorted(info.services, key=lambda c: c.start):
        if call.resolved and call.target in mapping and call.end > call.start:
            out.append(text[last : call.start] + f"<{mapping[call.target]}>")
            last = call.end
    out.append(text[last:])
    return "".join(out)


def substitute(text: str, bindings: dict[str, str]) -> str:
    """The query with each variable in `bindings` replaced by an RDF term (N-Triples syntax,
    as pyoxigraph's str() writes it), for engines that have no substitution API (remote
    SPARQL endpoints). In the SELECT clause `?v` becomes `(term AS ?v)`, so the column stays;
    in ORDER BY / GROUP BY it becomes `(term)`.

    The terms come from typed, validated values (canned-query parameters), serialized by
    pyoxigraph, so nothing the user typed reaches the query text unescaped."""
    if not bindings:
        return text
    out, last, in_projection, in_modifier = [], 0, False, False
    for t in tokens(text):
        word = t.value.upper() if t.kind == "word" else ""
        if word == "SELECT":
            in_projection = True
        elif in_projection and (t.value == "{" or word in ("WHERE", "FROM")):
            in_projection = False
        if word == "BY":
            in_modifier = True
        elif word in ("LIMIT", "OFFSET", "VALUES", "HAVING") or t.value in ("{", "}"):
            in_modifier = False
        if t.kind == "var" and t.value[1:] in bindings:
            term = bindings[t.value[1:]]
            if in_projection:
                replacement = f"({term} AS {t.value})"
            elif in_modifier:
                replacement = f"({term})"
            else:
                replacement = term
            out.append(text[last : t.start] + replacement)
            last = t.end
    out.append(text[last:])
    return "".join(out)


def with_prefixes(text: str, prefixes: dict[str, str]) -> str:
    """The query with PREFIX declarations added for the known prefixes it does not declare
    (remote engines do not pre-declare ours)."""
    toks = tokens(text)
    declared = {toks[i + 1].value[:-1] for i in range(len(toks)) if _declares_prefix(toks, i)}
    lines = [f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items() if p not in declared]
    return "".join(lines) + text


_INTEGER = re.compile(r"\s*([0-9]+)")


def limited_select(text: str, limit: int, site: LimitSite | None = None) -> tuple[str, bool] | None:
    """A SELECT query made to return at most `limit` rows, for serializers that cannot cut
    a result: (text, cut_impossible). cut_impossible is True when the query's own
    top-level LIMIT is below `limit` (the text is then unchanged). Otherwise the text has a
    top-level LIMIT of `limit` (its own larger LIMIT lowered, or one added before a
    trailing VALUES clause or at the end). None for anything but a SELECT whose clauses
    this lexer can place with certainty; the caller then cuts the rows itself. `site`:
    what inspect_query found for this text (else the text is read again)."""
    if site is None:
        info = inspect_query(text)
        if info.limit_site is None:
            return None
        site = info.limit_site
    start, end = site.number
    if site.own is not None:
        if site.own < limit:
            return text, True
        return text[:start] + str(limit) + text[end:], False
    if start < len(text):  # before a trailing VALUES clause
        return text[:start] + f"LIMIT {limit}\n" + text[start:], False
    return text + f"\nLIMIT {limit}\n", False


def _limit_site(text: str, toks: list[Token]) -> LimitSite | None:
    """The top-level LIMIT of a SELECT (after its WHERE group, outside any brackets)."""
    depth, where_end = 0, -1
    for i, t in enumerate(toks):
        if t.kind == "other" and t.value in "{([":
            depth += 1
        elif t.kind == "other" and t.value in "})]":
            depth -= 1
            if depth == 0 and t.value == "}":
                where_end = i
                break
    if where_end < 0:
        return None
    own_limit: Token | None = None
    values_at = -1
    depth = 0
    for t in toks[where_end + 1 :]:
        if t.kind == "other" and t.value in "{([":
            depth += 1
        elif t.kind == "other" and t.value in "})]":
            depth -= 1
        elif depth == 0 and t.kind == "word" and t.value.upper() == "LIMIT":
            own_limit = t
        elif depth == 0 and t.kind == "word" and t.value.upper() == "VALUES" and values_at < 0:
            values_at = t.start
    if own_limit is not None:
        number = _INTEGER.match(text, own_limit.end)
        if number is None:
            return None
        return LimitSite(int(number.group(1)), (number.start(1), number.end(1)))
    at = values_at if values_at >= 0 else len(text)
    return LimitSite(None, (at, at))
