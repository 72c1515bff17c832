"""What kind of value each variable of a query holds, read from its algebra (rdflib's SPARQL
parser): a remote engine that writes booleans as the integers 1 and 0 (Virtuoso) has its
answers put right by it (remote_terms.py), and is refused where they cannot be.

A variable's kind comes from every place that binds it: a BIND or SELECT expression, an
aggregate, VALUES, or a triple pattern (the data). BOOLEAN: every place binds a boolean
(a comparison, &&, BOUND, EXISTS, true…); MIXED: some places do and others bind other
values, so a 1 in the answer may be either; LOST: a boolean turned into text (STR, CONCAT,
GROUP_CONCAT), which no normalisation can undo; OTHER: everything else."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

BOOLEAN, MIXED, LOST, OTHER = "boolean", "mixed", "lost", "other"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"

# rdflib's names of the expressions whose value is always a boolean.
_BOOLEAN_EXPRESSIONS = {
    "RelationalExpression",
    "ConditionalAndExpression",
    "ConditionalOrExpression",
    "UnaryNot",
    "Builtin_BOUND",
    "Builtin_isIRI",
    "Builtin_isBLANK",
    "Builtin_isLITERAL",
    "Builtin_isNUMERIC",
    "Builtin_REGEX",
    "Builtin_CONTAINS",
    "Builtin_STRSTARTS",
    "Builtin_STRENDS",
    "Builtin_LANGMATCHES",
    "Builtin_sameTerm",
    "Builtin_EXISTS",
    "Builtin_NOTEXISTS",
}
# Expressions that write their argument as text: a boolean in them becomes "1" or "0".
_TEXT_OF = {"Builtin_STR", "Builtin_CONCAT", "Aggregate_GroupConcat", "Builtin_STRDT"}
# Aggregates whose value is one of their arguments' values.
_PICKING = {"Aggregate_Sample", "Aggregate_Min", "Aggregate_Max"}


@dataclass(frozen=True)
class Shape:
    """The kinds of a query's projected variables (SELECT) or of the variables its
    CONSTRUCT template writes; `readable` False when rdflib cannot parse the query."""

    kinds: dict[str, str]
    readable: bool = True

    def kind(self, variable: str) -> str:
        return self.kinds.get(variable, OTHER)


@functools.lru_cache(maxsize=256)
def shape(query: str) -> Shape:
    """The kinds of the variables the answer to `query` holds (remembered per text)."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        algebra = translateQuery(parseQuery(query)).algebra
    except Exception:  # rdflib's parser raises many types; the engine will judge the query
        return Shape({}, readable=False)
    sites: dict[str, list[Any]] = {}
    _collect(algebra, sites)
    if algebra.name == "ConstructQuery":
        template = algebra.get("template") or []
        names = [str(t) for triple in template for t in triple if _is_variable(t)]
    else:
        names = [str(v) for v in (algebra.get("PV") or [])]
    return Shape({name: _kind_of_variable(name, sites, frozenset()) for name in names})


def _is_variable(term: Any) -> bool:
    return type(term).__name__ == "Variable"


def _children(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):  # rdflib's CompValue is an OrderedDict
        yield from node.values()
    elif isinstance(node, (list, tuple, set)):
        yield from node


def _collect(node: Any, sites: dict[str, list[Any]]) -> None:
    """Every place that binds a variable, by variable name: the expression, or DATA."""
    name = getattr(node, "name", None)
    if name == "Extend":
        sites.setdefault(str(node["var"]), []).append(node["expr"])
    elif name is not None and name.startswith("Aggregate_") and "res" in node:
        sites.setdefault(str(node["res"]), []).append(node)
    elif name == "values":
        for row in node["res"]:
            for var, value in row.items():
                sites.setdefault(str(var), []).append(value)
    elif name == "BGP":
        for triple in node["triples"]:
            for term in triple:
                if _is_variable(term):
                    sites.setdefault(str(term), []).append(_DATA)
    elif name == "Graph" and _is_variable(node.get("term")):
        sites.setdefault(str(node["term"]), []).append(_DATA)
    elif name == "TriplesBlock":  # inside EXISTS: binds nothing outside it
        return
    for child in _children(node):
        _collect(child, sites)


_DATA = object()  # a triple pattern's variable: a value from the data


def _combine(kinds: set[str]) -> str:
    if LOST in kinds:
        return LOST
    if MIXED in kinds or (BOOLEAN in kinds and len(kinds) > 1):
        return MIXED
    return BOOLEAN if kinds == {BOOLEAN} else OTHER


def _kind_of_variable(name: str, sites: dict[str, list[Any]], seen: frozenset[str]) -> str:
    if name in seen:  # GROUP BY ?v binds ?v from SAMPLE(?v): its other sites decide
        return ""
    found = {_kind(site, sites, seen | {name}) for site in sites.get(name, [_DATA])}
    found.discard("")
    return _combine(found) if found else OTHER


def _kind(expr: Any, sites: dict[str, list[Any]], seen: frozenset[str]) -> str:
    if expr is _DATA:
        return OTHER
    if _is_variable(expr):
        return _kind_of_variable(str(expr), sites, seen)
    if type(expr).__name__ == "Literal":
        return BOOLEAN if str(getattr(expr, "datatype", "")) == XSD_BOOLEAN else OTHER
    name = getattr(expr, "name", None)
    if name is None:
        return OTHER
    if name in _BOOLEAN_EXPRESSIONS:
        return BOOLEAN
    if name == "Function" and str(expr.get("iri")) == XSD_BOOLEAN:
        return BOOLEAN
    if name == "Builtin_IF":
        return _combine({_kind(expr["arg2"], sites, seen), _kind(expr["arg3"], sites, seen)})
    if name == "Builtin_COALESCE":
        return _combine({_kind(arg, sites, seen) for arg in expr["arg"]})
    if name in _PICKING:
        return _kind(expr["vars"], sites, seen)
    if name in _TEXT_OF:
        args = [v for k, v in expr.items() if k in ("arg", "arg1", "vars", "expr")]
        flat = [a for arg in args for a in (arg if isinstance(arg, list) else [arg])]
        if any(_kind(a, sites, seen) in (BOOLEAN, MIXED, LOST) for a in flat):
            return LOST
    return OTHER
