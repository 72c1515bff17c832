"""The shapes graph, as the SHACL compiler (shacl_compile) reads it, and the gate that keeps
it to the supported subset: any sh: predicate the compiler does not handle
(sh:qualifiedValueShape, sh:sparql, sh:targetNode, ...), a parameter given twice, or an implicit
class target raises ShapeCompileError, naming the shape and the construct, so that no
constraint is ever skipped silently."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from ..errors import ShapeCompileError
from ..namespaces import VOCABULARIES

SH = VOCABULARIES["sh"]
RDF_FIRST, RDF_REST, RDF_NIL = (VOCABULARIES["rdf"] + n for n in ("first", "rest", "nil"))

Term = ox.NamedNode | ox.BlankNode | ox.Literal

# Shape parameters, each allowed once per shape; targets and sh:property may repeat.
_PARAMETERS = {
    SH + name
    for name in (
        "path class datatype nodeKind minCount maxCount pattern flags in languageIn "
        "minInclusive minLength or and message severity deactivated name description order group"
    ).split()
}
_REPEATABLE = {SH + "targetClass", SH + "targetSubjectsOf", SH + "property"}
_TARGETS = (SH + "targetClass", SH + "targetSubjectsOf")
_CLASSES = {VOCABULARIES["rdfs"] + "Class", VOCABULARIES["owl"] + "Class"}


class ShapesGraph:
    """The shapes graph as subject -> predicate IRI -> objects, with RDF lists."""

    def __init__(self, triples: Iterable[ox.Triple | ox.Quad]):
        self._out: dict[Term, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        self._parent: dict[Term, Term] = {}
        for t in triples:
            subject, obj = t.subject, t.object
            if not isinstance(subject, Term) or not isinstance(obj, Term):
                raise ShapeCompileError(f"RDF-star triple in the shapes graph: {t}")
            self._out[subject][t.predicate.value].append(obj)
            if isinstance(obj, ox.BlankNode):
                self._parent[obj] = subject

    def subjects(self) -> list[Term]:
        return list(self._out)

    def objects(self, node: Term, predicate: str) -> list[Term]:
        return self._out.get(node, {}).get(predicate, [])

    def value(self, node: Term, predicate: str) -> Term | None:
        found = self.objects(node, predicate)
        return found[0] if found else None

    def has_target(self, node: Term) -> bool:
        return any(self.objects(node, t) for t in _TARGETS)

    def items(self, head: Term, owner: Term, construct: str) -> list[Term]:
        """The members of the RDF list `head`, the value of `construct` on `owner`."""
        members: list[Term] = []
        while head != ox.NamedNode(RDF_NIL):
            first = self.objects(head, RDF_FIRST)
            rest = self.objects(head, RDF_REST)
            if len(first) != 1 or len(rest) != 1:
                raise ShapeCompileError(f"{self.describe(owner)}: {construct} is not an RDF list")
            members.append(first[0])
            head = rest[0]
        return members

    def describe(self, node: Term) -> str:
        """A shape for an error message; a blank one by the named node it is nested in."""
        if not isinstance(node, ox.BlankNode):
            return str(node)
        outer: Term = node
        while isinstance(outer, ox.BlankNode) and outer in self._parent:
            outer = self._parent[outer]
        where = f" in {outer}" if outer != node else ""
        path = self.value(node, SH + "path")
        return f"blank shape{f' with sh:path {path}' if path else ''}{where}"

    def check_supported(self) -> None:
        """Raise on any SHACL construct the compiler does not handle."""
        for node, predicates in self._out.items():
            for predicate, objects in predicates.items():
                if not predicate.startswith(SH):
                    continue
                name = "sh:" + predicate.removeprefix(SH)
                if predicate not in _PARAMETERS and predicate not in _REPEATABLE:
                    raise ShapeCompileError(
                        f"{self.describe(node)}: {name} is not supported by the SPARQL compiler"
                    )
                if predicate in _PARAMETERS and len(objects) > 1:
                    raise ShapeCompileError(
                        f"{self.describe(node)}: more than one {name} is not supported"
                    )
            types = {t.value for t in predicates.get(VOCABULARIES["rdf"] + "type", [])}
            if types & _CLASSES and any(p.startswith(SH) for p in predicates):
                raise ShapeCompileError(
                    f"{self.describe(node)}: implicit class targets (a shape that is also a "
                    "class) are not supported"
                )
