"""What a SPARQL request is, read from its text before it runs: its form (SELECT, ASK,
CONSTRUCT, DESCRIBE, or an update), whether it names its own dataset (FROM), every SERVICE
it would call, and how deeply it nests.

This is a lexer, not a parser. It follows the SPARQL 1.1 grammar's terminals (IRIREF,
PNAME_NS/PNAME_LN with the exact PN_CHARS classes, strings, numbers, variables, comments)
the way Oxigraph reads them: `\\u` escapes count only inside strings and IRIs; Oxigraph
matches a keyword without a word boundary, so a keyword written against what follows it
(`SERVICE:x`, `SERVICEp:x`, `SERVICESILENT<…>`, `PREFIXp: <…>`, `trueSERVICE`) is the keyword
and the rest; a `<` after an operand inside an expression is "less than", not an IRI; the
prologue (BASE, PREFIX) ends where the query form begins; relative IRIs resolve as pyoxigraph
resolves them. It errs on the side of refusal: text it cannot read safely (a stray quote or
backslash, a `<` that could be read both ways) is reported as unreadable, and a SERVICE whose
target it cannot resolve to an absolute IRI as unresolvable; the engine refuses both.
tests/unit/test_lexer_fuzz.py holds it to Oxigraph's own parser. Oxigraph's parser has the
final word on syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

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

_NUMBER = (
    r"[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+|[0-9]+[eE][+-]?[0-9]+"
    r"|[0-9]*\.[0-9]+|[0-9]+"
)
_TOKEN = re.compile(
    rf"""
    (?P<ws>[\ \t\r\n]+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''
              |\"\"\"(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*\"\"\"
              |'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'
              |"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*")
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
  | (?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
  | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
  | (?P<number>{_NUMBER})
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UNICODE_ESCAPE = re.compile(_UCHAR)
# An absolute IRI as a user may type it (a scheme, then no character an IRIREF forbids).
ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|^`\\]*")
# Oxigraph matches keywords without a word boundary: `trueSERVICE` is `true SERVICE`,
# `SERVICESILENTp:x` is `SERVICE SILENT p:x`.
_JAMMED_SERVICE = re.compile(r"(true|false)?(service)(silent)?", re.IGNORECASE)
# Read as "less than", the text an IRI would span must hold nothing that changes how the
# rest is read (a comment, a string, a bracket); otherwise the `<` is ambiguous.
_CHANGES_READING = re.compile(r"[#'()\[\]]")
# Words after which "(" opens a list (a collection, VALUES variables), not an expression.
_LIST_WORDS = {"A", "VALUES"}
# In a projection or GROUP BY / ORDER BY / HAVING, "(" opens an expression.
_CLAUSE_OPEN = {"SELECT", "BY", "HAVING"}
_CLAUSE_CLOSE = {"WHERE", "FROM", "LIMIT", "OFFSET", "VALUES"}
_FORMS = sorted(QUERY_FORMS | UPDATE_KEYWORDS, key=len, reverse=True)


@dataclass(frozen=True)
class Token:
    kind: str  # string, iri, var, pname, number, langtag, word, other, ambiguous
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


def _operand(tok: Token | None) -> bool:
    """Whether `tok` can end an operand of an expression (so a `<` after it compares)."""
    if tok is None:
        return False
    if tok.kind in ("var", "string", "iri", "pname", "number", "langtag"):
        return True
    if tok.kind == "word":
        return tok.value.lower() in ("true", "false")
    return tok.kind == "other" and tok.value in ")]"


def _paren(out: list[Token], stack: list[str], clause: bool) -> str:
    """What a "(" opens: "(e" an expression, "(l" a list (collection, path, VALUES
    variables, triple term)."""
    if stack and stack[-1] == "(e":
        return "(e"
    prev = out[-1] if out else None
    if prev is None or (prev.kind == "other" and prev.value == "<"):
        return "(l"
    if prev.kind == "word":  # FILTER(, BIND(, a function, IN (, a jammed FILTERregex(
        return "(l" if prev.value.upper() in _LIST_WORDS else "(e"
    if clause:
        return "(e"
    if prev.kind in ("iri", "pname"):  # FILTER <fn>(…), FILTER p:fn(…), FILTERp:fn(…)
        before = out[-2].value.upper() if len(out) > 1 and out[-2].kind == "word" else ""
        if before == "FILTER" or (prev.kind == "pname" and prev.value[:6].upper() == "FILTER"):
            return "(e"
    return "(l"


def raw_tokens(text: str) -> list[Token]:
    """The significant tokens (no whitespace, no comments), as written; a `<` after an
    operand inside an expression is an operator, not the start of an IRI."""
    out: list[Token] = []
    stack: list[str] = []  # open brackets: "{", "[", "(e", "(l"
    clause = False
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        assert m is not None  # `other` matches any character
        kind, value, end = m.lastgroup or "other", m.group(), m.end()
        if kind in ("ws", "comment"):
            pos = end
            continue
        if kind == "iri" and stack and stack[-1] == "(e" and _operand(out[-1] if out else None):
            kind = "ambiguous" if _CHANGES_READING.search(value) else "other"
            value, end = "<", pos + 1
        if kind == "other" and value == "(":
            stack.append(_paren(out, stack, clause))
        elif kind == "other" and value in "{[":
            stack.append(value)
            clause = clause and value == "["
        elif kind == "other" and value in ")}]":
            if stack:
                stack.pop()
            clause = clause and value != "}"
        elif kind == "word" and value.upper() in _CLAUSE_OPEN:
            clause = True
        elif kind == "word" and value.upper() in _CLAUSE_CLOSE:
            clause = False
        out.append(Token(kind, value, pos, end))
        pos = end
    return out


def _explode(t: Token) -> list[Token]:
    """`t` with the keywords Oxigraph would read at its start split off: `SERVICEp:x` is
    SERVICE and `p:x`, `trueSERVICE` is true and SERVICE, `FROM:g` is FROM and `:g`."""
    if t.kind not in ("word", "pname"):
        return [t]
    head = t.value.split(":", 1)[0]
    m = _JAMMED_SERVICE.match(head)
    out = []
    if m:
        for g in (1, 2, 3):
            if m.group(g):
                out.append(Token("word", m.group(g), t.start + m.start(g), t.start + m.end(g)))
        cut = m.end()
    elif t.kind == "pname" and head.upper() in KEYWORDS:
        out.append(Token("word", head, t.start, t.start + len(head)))
        cut = len(head)
    else:
        return [t]
    if cut < len(t.value):
        out.append(Token(t.kind, t.value[cut:], t.start + cut, t.end))
    return out


def tokens(text: str) -> list[Token]:
    """The significant tokens (no whitespace, no comments), keywords split from what they
    are written against."""
    return [x for t in raw_tokens(text) for x in _explode(t)]


def inspect_query(
    text: str, prefixes: dict[str, str] | None = None, base_iri: str | None = None
) -> QueryInfo:
    """Read the form, dataset clause, SERVICE calls and nesting of a query or update.

    `prefixes` are the prefixes the engine pre-declares, used when a SERVICE target is a
    prefixed name the query does not declare itself; `base_iri` is the base the engine
    resolves relative IRIs against until the query's own BASE (the same for both, so a
    relative SERVICE target is judged as the engine would call it)."""
    raw = raw_tokens(text)
    info = QueryInfo(depth=nesting_depth(raw))
    stray = [t for t in raw if t.kind == "other" and t.value in "\"'\\"]
    ambiguous = [t for t in raw if t.kind == "ambiguous"]
    if stray:
        info.unreadable = f"unexpected {stray[0].value!r} at character {stray[0].start + 1}"
    elif ambiguous:
        info.unreadable = (
            f"the '<' at character {ambiguous[0].start + 1} reads both as 'less than' and as "
            "the start of an IRI; put spaces around the operator"
        )
    known = dict(prefixes or {})
    base, i = _prologue(raw, known, base_iri)
    if i < len(raw) and raw[i].kind in ("word", "pname"):
        head = raw[i].value.split(":", 1)[0].upper()
        form = next((k for k in _FORMS if head.startswith(k)), None)
        if form:
            info.form, info.is_update = form, form in UPDATE_KEYWORDS
    body = [x for t in raw[i:] for x in _explode(t)]
    for j, t in enumerate(body):
        if t.kind != "word":
            continue
        upper = t.value.upper()
        # Only updates declare prefixes after the prologue (after a ";"); in a query these
        # tokens are terms, and reading them as declarations would misread a SERVICE.
        if info.is_update and _declares_prefix(body, j):
            known[body[j + 1].value[:-1]] = _resolve(_iri(body[j + 2]), base) or ""
        elif info.is_update and upper == "BASE" and j + 1 < len(body) and body[j + 1].kind == "iri":
            base = _resolve(_iri(body[j + 1]), base)
        elif upper == "FROM":
            info.has_dataset_clause = True
        elif upper == "SERVICE":
            info.services.append(_service_target(body, j + 1, known, base))
    if not info.unreadable and info.form == "SELECT":
        info.limit_site = _limit_site(text, body)
    return info


def _prologue(
    raw: list[Token], known: dict[str, str], base: str | None = None
) -> tuple[str | None, int]:
    """Read BASE and PREFIX declarations (into `known`) as Oxigraph does: a PREFIX takes
    the prefixed name that follows it whole (`PREFIX PREFIX: <…>` declares `PREFIX:`), and
    `PREFIXp: <…>` declares `p:`. `base` is the engine's own base, until a BASE. Returns
    the base and where the query form begins."""
    i = 0
    while i < len(raw):
        t = raw[i]
        nxt = raw[i + 1] if i + 1 < len(raw) else None
        word = t.value.upper() if t.kind == "word" else ""
        if word == "BASE" and nxt is not None and nxt.kind == "iri":
            base = _resolve(_iri(nxt), base)
            i += 2
        elif _declares_prefix(raw, i):
            known[raw[i + 1].value[:-1]] = _resolve(_iri(raw[i + 2]), base) or ""
            i += 3
        elif (
            _is_ns(t) and t.value[:6].upper() == "PREFIX" and nxt is not None and nxt.kind == "iri"
        ):
            known[t.value[6:-1]] = _resolve(_iri(nxt), base) or ""
            i += 2
        elif word == "VERSION" and nxt is not None and nxt.kind == "string":
            i += 2
        else:
            break
    return base, i


def _is_ns(t: Token) -> bool:
    return t.kind == "pname" and t.value.endswith(":")


def _declares_prefix(toks: list[Token], i: int) -> bool:
    return (
        toks[i].kind == "word"
        and toks[i].value.upper() == "PREFIX"
        and i + 2 < len(toks)
        and _is_ns(toks[i + 1])
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
    silent = k < len(toks) and toks[k].kind == "word" and toks[k].value.upper() == "SILENT"
    k += silent
    if k >= len(toks):
        return ServiceCall("(missing)", False)
    t = toks[k]
    if t.kind == "iri":
        iri = _resolve(_iri(t), base)
        return ServiceCall(iri or t.value, iri is not None, t.start, t.end)
    if t.kind == "pname":
        prefix, _, local = t.value.partition(":")
        # `SERVICE SILENTp:x` is SERVICE SILENT p:x (Oxigraph takes SILENT when it can).
        cut = 6 if not silent and prefix[:6].upper() == "SILENT" else 0
        if prefixes.get(prefix[cut:]):
            local = re.sub(r"\\(.)", r"\1", local)
            return ServiceCall(prefixes[prefix[cut:]] + local, True, t.start + cut, t.end)
    return ServiceCall(t.value, False, t.start, t.end)


def _resolve(iri: str, base: str | None) -> str | None:
    """The absolute form of an IRI reference as pyoxigraph resolves it (RFC 3986, with no
    normalisation of an absolute IRI or of the base), or None if it cannot be resolved."""
    if ABSOLUTE_IRI.match(iri):
        return iri
    if base is None:
        return None
    escaped = "".join(f"\\u{ord(c):04X}" if c in '<>"{}|^`\\' or c <= " " else c for c in iri)
    try:
        parsed = ox.parse(f"<{escaped}> <urn:p> <urn:o> .", ox.RdfFormat.TURTLE, base_iri=base)
        return str(next(iter(parsed)).subject.value)
    except (SyntaxError, ValueError, StopIteration):
        return None


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
