"""A compiler of SHACL Core shapes to SPARQL (not W3C SHACL-SPARQL: sh:sparql is refused).
Pure: shape triples in, queries out; shacl_run runs them on the store that holds the data.

pyshacl copies the data into rdflib and walks it in Python (134 s and 3.4 GB at 1M triples).
Here every constraint of the shapes graph becomes one SELECT whose rows are its violations, so
validation costs a few Oxigraph joins over data that is already loaded.

The compiled subset is the part of SHACL Core that ontology/shapes.ttl uses. Any other sh:
predicate in the shapes graph (sh:qualifiedValueShape, sh:sparql, sh:targetNode, ...) and any
implicit class target raise ShapeCompileError (the gate is in shacl_shapes), naming the shape
and the construct, so that no constraint is ever skipped silently.

- Targets: sh:targetClass, the SHACL instances of the class: rdf:type/rdfs:subClassOf* in the
  data graphs (the ontology graph holds the subclass triples); sh:targetSubjectsOf.
- Shapes: node shapes, their property shapes (sh:property) with an IRI sh:path, and the shapes
  listed in sh:or / sh:and, with or without a path, at node or at value level.
- Value constraints: sh:class (rdf:type/rdfs:subClassOf*), sh:datatype (the datatype IRI, and a
  valid lexical form for the XSD types Oxigraph can cast, as pyshacl rejects ill-typed
  literals), sh:nodeKind, sh:pattern with sh:flags (SPARQL REGEX), sh:in (sameTerm),
  sh:languageIn (langMatches), sh:minLength, sh:minInclusive.
- Cardinality: sh:minCount, sh:maxCount, counting distinct value nodes.
- Not validating: sh:message, sh:severity (a Problem has none), sh:deactivated, sh:name,
  sh:description, sh:order, sh:group.

The results are those of shacl_pyshacl.shape_problems (pyshacl): one Problem per shape,
constraint, focus node and value node, so a property shape used by two node shapes reports a
node targeted by both twice. The check is the shape IRI ("shapes.ttl" for a blank shape), the
path the sh:path IRI ("" for node-level constraints), the message the shape's sh:message or,
without one, pyshacl's wording for sh:class, sh:datatype, sh:nodeKind and sh:pattern and a
wording of our own for the rest (pyshacl's embeds Python reprs of the nodes).

Where pyshacl departs from the SHACL spec in corners the shipped shapes do not reach, this
module follows the spec: sh:languageIn ranges with subtags, sh:flags other than "i" and "m",
sh:minLength 0 on a blank node.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import pyoxigraph as ox
import rdflib

from ..errors import ShapeCompileError
from ..namespaces import VOCABULARIES
from .shacl_shapes import SH, ShapesGraph, Term

RDF_TYPE = f"<{VOCABULARIES['rdf']}type>"
SUBCLASS_OF = f"<{VOCABULARIES['rdfs']}subClassOf>"
XSD = VOCABULARIES["xsd"]

# The XSD datatypes Oxigraph can cast a string to: a failed cast is an ill-typed literal.
_CASTABLE = {
    XSD + name
    for name in (
        "boolean integer decimal float double date time dateTime duration "
        "yearMonthDuration dayTimeDuration"
    ).split()
}
_NODE_KINDS = {  # sh:nodeKind -> the test for a value node that does NOT have that kind
    "IRI": "!isIRI({v})",
    "BlankNode": "!isBlank({v})",
    "Literal": "!isLiteral({v})",
    "BlankNodeOrIRI": "isLiteral({v})",
    "BlankNodeOrLiteral": "isIRI({v})",
    "IRIOrLiteral": "isBlank({v})",
}


@dataclass(frozen=True)
class CompiledConstraint:
    """One constraint of one shape, applied to the focus nodes of one targeted shape."""

    check: str  # Problem.check: the shape IRI, "shapes.ttl" for a blank shape
    path: str  # Problem.path: the sh:path IRI, "" for a node-level constraint
    message: str  # Problem.message
    component: str  # what is tested, e.g. "sh:minCount 1", for errors and timings
    target: str  # the targeted shape whose focus nodes are tested
    query: str  # SELECT ?focus ... : one row per violation


def compile_shapes(
    shapes: Iterable[ox.Triple | ox.Quad], many: Callable[[str], bool] | None = None
) -> list[CompiledConstraint]:
    """One SELECT per constraint of every shape with a target (and of its property shapes).

    `many(query)`, given a SELECT of a targeted shape's focus nodes, tells whether they are
    many: their queries then use hash joins rather than lookups per focus node (see
    _Compiler._shape). Without it, every shape gets the lookups."""
    graph = ShapesGraph(shapes)
    graph.check_supported()
    roots = sorted((s for s in graph.subjects() if graph.has_target(s)), key=str)
    constraints: list[CompiledConstraint] = []
    for root in roots:
        compiler = _Compiler(graph, root)
        compiler.hash_join = many is not None and many(compiler.focus_query())
        constraints.extend(compiler.constraints())
    return constraints


class _Test(NamedTuple):
    """One constraint on single value nodes."""

    component: str  # e.g. "sh:datatype xsd:date", for CompiledConstraint.component
    fails: str  # a SPARQL expression, true when the value node violates the constraint
    default: str  # the message when the shape has no sh:message
    # A pattern binding the value variable to exactly the conforming nodes, when there is one
    # (instances of classes): MINUS then removes them in one hash anti-join instead of one
    # EXISTS probe per value node.
    conforming: str | None = None


class _Compiler:
    """The constraints of one targeted shape `root`, as SELECT queries over its focus nodes."""

    def __init__(self, graph: ShapesGraph, root: Term):
        self.graph, self.root = graph, root
        self._fresh = itertools.count(1)
        self._targets = self._target_patterns()
        self.hash_join = False  # the plan for many focus nodes, see _shape

    def focus_query(self) -> str:
        """A SELECT of the root's focus nodes (repeated when reached more than once)."""
        return f"SELECT ?focus WHERE {{ {self._union(self._targets)} }}"

    def constraints(self) -> Iterator[CompiledConstraint]:
        return self._shape(self.root)

    def _target_patterns(self) -> list[str]:
        """One pattern per target of the root, each binding ?focus to its focus nodes."""
        patterns = []
        for cls in self.graph.objects(self.root, SH + "targetClass"):
            # From the class down to its subclasses, then their instances: Oxigraph joins in
            # the written order, and the class hierarchy is tiny.
            patterns.append(
                f"?class {SUBCLASS_OF}* {_sparql(cls, self.root)} . ?focus {RDF_TYPE} ?class ."
            )
        for prop in self.graph.objects(self.root, SH + "targetSubjectsOf"):
            patterns.append(f"?focus {_sparql(prop, self.root)} ?object .")
        return patterns

    def _per_focus(self, body: str) -> str:
        """`body` after each target, so that Oxigraph looks each focus node's triples up (a
        union, not a join with a subquery of the focus nodes, which Oxigraph would evaluate
        apart and hash-join). Queries take DISTINCT or GROUP BY ?focus, as a node may be
        reached by several targets or through several subclasses."""
        return self._union([f"{target} {body}" for target in self._targets])

    def _focus_nodes(self) -> str:
        """A subquery of the focus nodes, each once, for hash joins."""
        return f"{{ SELECT DISTINCT ?focus WHERE {{ {self._union(self._targets)} }} }}"

    @staticmethod
    def _union(patterns: list[str]) -> str:
        return patterns[0] if len(patterns) == 1 else " UNION ".join(f"{{ {p} }}" for p in patterns)

    def _shape(self, shape: Term) -> Iterator[CompiledConstraint]:
        """The constraints of `shape` (the root or one of its sh:property shapes) on the root's
        focus nodes.

        Two plans, as Oxigraph mostly evaluates a query as written. Few focus nodes: each one's
        values are looked up and tested (_per_focus). Many (hash_join): lookups would cost one
        index seek per focus node and data graph, so the violating (focus, value) candidates
        are found first among all the triples of the property, by a filter, an anti-join
        (MINUS) with the conforming nodes or a grouping, and then hash-joined with the focus
        nodes; a missing value is an anti-join of the focus nodes with the property."""
        g = self.graph
        if _is_true(g.value(shape, SH + "deactivated")):
            return
        path = self._path(shape)
        message = g.value(shape, SH + "message")
        check = shape.value if isinstance(shape, ox.NamedNode) else "shapes.ttl"
        target = g.describe(self.root)

        def constraint(component: str, default: str, query: str) -> CompiledConstraint:
            text = message.value if message is not None else default
            return CompiledConstraint(check, path or "", text, component, target, query)

        if path is None:  # a node shape: its constraints apply to the focus node itself
            for test in self._value_tests(shape, "?focus"):
                if test.conforming is not None:
                    where = f"{self._focus_nodes()} MINUS {{ {test.conforming} }}"
                else:
                    where = self._per_focus(f"FILTER({test.fails})")
                query = f"SELECT DISTINCT ?focus WHERE {{ {where} }}"
                yield constraint(test.component, test.default, query)
            for prop in self._properties(shape):
                yield from self._shape(prop)
            return
        self._properties(shape)  # raises: sh:property on a property shape
        step = f"?focus <{path}> ?value ."
        for test in self._value_tests(shape, "?value"):
            if test.conforming is not None and not self.hash_join:
                where = f"{{ {self._per_focus(step)} }} MINUS {{ {test.conforming} }}"
            elif test.conforming is not None:
                where = f"{{ {step} MINUS {{ {test.conforming} }} }} {self._focus_nodes()}"
            elif not self.hash_join:
                where = self._per_focus(f"{step} FILTER({test.fails})")
            else:
                where = f"{{ {step} FILTER({test.fails}) }} {self._focus_nodes()}"
            query = f"SELECT DISTINCT ?focus ?value WHERE {{ {where} }}"
            yield constraint(test.component, test.default, query)
        if min_count := self._count(shape, "minCount"):  # sh:minCount 0 always holds
            if min_count == 1 and self.hash_join:
                query = f"SELECT ?focus WHERE {{ {self._focus_nodes()} MINUS {{ {step} }} }}"
            elif min_count == 1:  # cheaper than counting every focus node's values
                body = self._per_focus(f"FILTER NOT EXISTS {{ {step} }}")
                query = f"SELECT DISTINCT ?focus WHERE {{ {body} }}"
            else:
                counting = f"OPTIONAL {{ {step} }}"
                if self.hash_join:
                    where = f"{self._focus_nodes()} {counting}"
                else:
                    where = self._per_focus(counting)
                query = (
                    f"SELECT ?focus WHERE {{ {where} }} "
                    f"GROUP BY ?focus HAVING (COUNT(DISTINCT ?value) < {min_count})"
                )
            default = f"Less than {min_count} values on {_n3(path)}"
            yield constraint(f"sh:minCount {min_count}", default, query)
        if (max_count := self._count(shape, "maxCount")) is not None:
            too_many = f"GROUP BY ?focus HAVING (COUNT(DISTINCT ?value) > {max_count})"
            if self.hash_join:
                counted = f"{{ SELECT ?focus WHERE {{ {step} }} {too_many} }}"
                query = f"SELECT ?focus WHERE {{ {counted} {self._focus_nodes()} }}"
            else:
                query = f"SELECT ?focus WHERE {{ {self._per_focus(step)} }} {too_many}"
            default = f"More than {max_count} values on {_n3(path)}"
            yield constraint(f"sh:maxCount {max_count}", default, query)

    def _value_tests(self, shape: Term, v: str) -> list[_Test]:
        """The constraints of `shape` on single value nodes, bound to `v`."""
        g = self.graph
        tests: list[_Test] = []

        def param(name: str) -> Term | None:
            return g.value(shape, SH + name)

        if (cls := param("class")) is not None:
            c, t = _sparql(cls, shape), f"?class{next(self._fresh)}"
            instance = f"{t} {SUBCLASS_OF}* {c} . {v} {RDF_TYPE} {t} ."
            tests.append(
                _Test(
                    f"sh:class {_n3(cls.value)}",
                    f"NOT EXISTS {{ {v} {RDF_TYPE} {t} . {t} {SUBCLASS_OF}* {c} }}",
                    f"Value does not have class {_n3(cls.value)}",
                    instance,
                )
            )
        if (datatype := param("datatype")) is not None:
            d = _sparql(datatype, shape)
            valid = f"isLiteral({v}) && sameTerm(DATATYPE({v}), {d})"
            if datatype.value in _CASTABLE:  # the cast fails on an ill-typed lexical form
                valid += f" && COALESCE(isLiteral({d}(STR({v}))), false)"
            tests.append(
                _Test(
                    f"sh:datatype {_n3(datatype.value)}",
                    f"!({valid})",
                    f"Value is not Literal with datatype {_n3(datatype.value)}",
                )
            )
        if (kind := param("nodeKind")) is not None:
            name = kind.value.removeprefix(SH)
            if kind.value == name or name not in _NODE_KINDS:
                raise ShapeCompileError(f"{g.describe(shape)}: unknown sh:nodeKind {kind}")
            tests.append(
                _Test(
                    f"sh:nodeKind sh:{name}",
                    _NODE_KINDS[name].format(v=v),
                    f"Value is not of Node Kind {_n3(kind.value)}",
                )
            )
        if (pattern := param("pattern")) is not None:
            flags = param("flags") or ox.Literal("")
            regex = f"{_string(pattern, shape)}, {_string(flags, shape)}"
            tests.append(
                _Test(
                    f"sh:pattern {pattern}",
                    f"isBlank({v}) || !REGEX(STR({v}), {regex})",
                    f"Value does not match pattern '{pattern.value}'",
                )
            )
        if (in_list := param("in")) is not None:
            members = [_sparql(m, shape) for m in g.items(in_list, shape, "sh:in")]
            tests.append(
                _Test(
                    "sh:in",
                    "!(" + " || ".join([f"sameTerm({v}, {m})" for m in members] or ["false"]) + ")",
                    f"Value not in list [{', '.join(members)}]",
                )
            )
        if (languages := param("languageIn")) is not None:
            ranges = [_string(r, shape) for r in g.items(languages, shape, "sh:languageIn")]
            matches = " || ".join([f"langMatches(LANG({v}), {r})" for r in ranges] or ["false"])
            tests.append(
                _Test(
                    "sh:languageIn",
                    f"!COALESCE({matches}, false)",  # LANG of a non-literal is an error
                    f"String language is not in ({', '.join(ranges)})",
                )
            )
        if (min_length := self._count(shape, "minLength")) is not None:
            tests.append(
                _Test(
                    f"sh:minLength {min_length}",
                    f"isBlank({v}) || STRLEN(STR({v})) < {min_length}",
                    f"String length not >= {min_length}",
                )
            )
        if (minimum := param("minInclusive")) is not None:
            if not isinstance(minimum, ox.Literal):
                raise ShapeCompileError(f"{g.describe(shape)}: sh:minInclusive is no literal")
            tests.append(
                _Test(
                    f"sh:minInclusive {minimum}",
                    # an incomparable value (another type, ill-typed) is an error: a violation
                    f"!COALESCE({v} >= {_sparql(minimum, shape)}, false)",
                    f"Value is not >= {minimum.value}",
                )
            )
        for logic in ("or", "and"):
            if (head := param(logic)) is not None:
                tests.append(self._logic(shape, logic, g.items(head, shape, f"sh:{logic}"), v))
        return tests

    def _logic(self, shape: Term, logic: str, members: list[Term], v: str) -> _Test:
        """sh:or fails when every member shape fails, sh:and when any does."""
        fails = [self._violates(m, v) for m in members]
        patterns = [self._conforming(m, v) for m in members]
        if logic == "or":
            test = " && ".join(f"({f})" for f in fails) or "true"
            exact = [p for p in patterns if p is not None]
            union = " UNION ".join(f"{{ {p} }}" for p in exact)
            conforming = union if members and len(exact) == len(members) else None
        else:
            test = _any(fails)
            conforming = _join(list(zip(patterns, fails, strict=True)))
        wording = "one or more" if logic == "or" else "all"
        message = f"Value does not conform to {wording} shapes in sh:{logic}"
        return _Test(f"sh:{logic}", test, message, conforming)

    def _conforming(self, shape: Term, v: str) -> str | None:
        """A pattern binding `v` to exactly the nodes that conform to `shape`, when some
        constraint of it yields one (sh:class, sh:minCount, and sh:or/sh:and of those)."""
        g = self.graph
        if _is_true(g.value(shape, SH + "deactivated")):
            return None
        path = self._path(shape)
        if path is None:
            parts = [(t.conforming, t.fails) for t in self._value_tests(shape, v)]
            parts += [
                (self._conforming(p, v), self._violates(p, v)) for p in self._properties(shape)
            ]
            return _join(parts)
        if not (min_count := self._count(shape, "minCount")):
            return None
        return self._distinct_values(v, path, min_count) + _unless(self._path_fails(shape, path, v))

    def _violates(self, shape: Term, v: str) -> str:
        """A SPARQL test true when the node `v` does not conform to `shape` (an sh:or / sh:and
        member), built from EXISTS so that it runs per node without a cross product."""
        g = self.graph
        if _is_true(g.value(shape, SH + "deactivated")):
            return "false"
        path = self._path(shape)
        if path is None:
            tests = [t.fails for t in self._value_tests(shape, v)]
            tests += [self._violates(p, v) for p in self._properties(shape)]
            return _any(tests)
        tests = self._path_fails(shape, path, v)
        if min_count := self._count(shape, "minCount"):
            tests.append(f"NOT EXISTS {{ {self._distinct_values(v, path, min_count)} }}")
        return _any(tests)

    def _path_fails(self, shape: Term, path: str, v: str) -> list[str]:
        """Tests true when a value of `v` on `path` violates the property shape, or when the
        values are more than its sh:maxCount (sh:minCount is left to the caller)."""
        value = f"?v{next(self._fresh)}"
        tests = [t.fails for t in self._value_tests(shape, value)]
        found = [f"EXISTS {{ {v} <{path}> {value} FILTER({_any(tests)}) }}"] if tests else []
        if (max_count := self._count(shape, "maxCount")) is not None:
            found.append(f"EXISTS {{ {self._distinct_values(v, path, max_count + 1)} }}")
        return found

    def _properties(self, shape: Term) -> list[Term]:
        """The sh:property shapes of a node shape."""
        properties = self.graph.objects(shape, SH + "property")
        if properties and self._path(shape) is not None:
            raise ShapeCompileError(
                f"{self.graph.describe(shape)}: sh:property on a property shape"
            )
        return properties

    def _distinct_values(self, v: str, path: str, n: int) -> str:
        """A pattern matching when `v` has at least `n` distinct values on `path`."""
        names = [f"?v{next(self._fresh)}" for _ in range(n)]
        steps = " ".join(f"{v} <{path}> {name} ." for name in names)
        different = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        return steps + (f" FILTER({' && '.join(different)})" if different else "")

    def _path(self, shape: Term) -> str | None:
        path = self.graph.value(shape, SH + "path")
        if path is None:
            return None
        if not isinstance(path, ox.NamedNode):
            raise ShapeCompileError(
                f"{self.graph.describe(shape)}: only IRI paths are supported, not {path}"
            )
        return path.value

    def _count(self, shape: Term, name: str) -> int | None:
        found = self.graph.value(shape, SH + name)
        if found is None:
            return None
        if not (isinstance(found, ox.Literal) and found.value.isdigit()):
            raise ShapeCompileError(f"{self.graph.describe(shape)}: sh:{name} {found} is no count")
        return int(found.value)


def _sparql(term: Term, shape: Term) -> str:
    """A constant of the shapes graph as SPARQL; N-Triples syntax is valid SPARQL."""
    if isinstance(term, ox.BlankNode):
        raise ShapeCompileError(f"{shape}: blank node {term} as a constraint parameter")
    return str(term)


def _string(term: Term, shape: Term) -> str:
    if not isinstance(term, ox.Literal):
        raise ShapeCompileError(f"{shape}: expected a string, not {term}")
    return str(ox.Literal(term.value))


def _any(tests: list[str]) -> str:
    return " || ".join(f"({t})" for t in tests) or "false"


def _unless(tests: list[str]) -> str:
    return f" FILTER(!({_any(tests)}))" if tests else ""


def _join(parts: list[tuple[str | None, str]]) -> str | None:
    """The nodes conforming to every part, each a (pattern of its conforming nodes or None,
    failure test): the patterns joined, the other parts as a filter; None without a pattern."""
    patterns = [f"{{ {pattern} }}" for pattern, _ in parts if pattern is not None]
    if not patterns:
        return None
    return " ".join(patterns) + _unless([fails for pattern, fails in parts if pattern is None])


def _is_true(term: Term | None) -> bool:
    return isinstance(term, ox.Literal) and term.value in ("true", "1")


@cache
def _namespaces() -> rdflib.namespace.NamespaceManager:
    # pyshacl names IRIs in its messages with rdflib's default prefixes.
    return rdflib.Graph().namespace_manager


def _n3(iri: str) -> str:
    return rdflib.URIRef(iri).n3(_namespaces())
