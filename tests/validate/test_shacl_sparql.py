"""The shapes compiled to SPARQL (cica_kg.validate.shacl_compile) report what pyshacl reports.

Each case breaks the shipped data in one place and checks both that the SPARQL validation and
pyshacl (shacl_pyshacl.shape_problems) give the same problems, with multiplicity, and that these
are the violations the case injected: two validators that both missed it would not pass."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cica_kg import resources
from cica_kg.errors import ShapeCompileError
from cica_kg.namespaces import graph_iri
from cica_kg.validate.problem import Problem
from cica_kg.validate.shacl_compile import compile_shapes
from cica_kg.validate.shacl_pyshacl import shape_problems
from cica_kg.validate.shacl_run import shape_problems_sparql

CICA = "https://w3id.org/cica-kg/ontology#"
SHAPES = "https://w3id.org/cica-kg/shapes#"
ID = "https://w3id.org/cica-kg/id/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREFIXES = """
@prefix cica:    <https://w3id.org/cica-kg/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix org:     <http://www.w3.org/ns/org#> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema:  <https://schema.org/> .
@prefix sh:      <http://www.w3.org/ns/shacl#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
"""
AFG = ID + "state/AFG"
SUMMIT = ID + "summit/1"
MEMBERSHIP = ID + "membership/KWT"
COORDINATION = ID + "coordination/human-dimension-KGZ-co-coordinator-2021"
DISAGREEMENT = ID + "disagreement/thailand-accession"
CLAIM = ID + "claim/thailand-accession-1"
DOCUMENT = ID + "document/anniversary-statement-2024"
CITY = ID + "city/new-york"
BLANK = "shapes.ttl"  # the check of a blank property shape


def shipped_quads() -> list[ox.Quad]:
    """The ontology and data files, each in its named graph, as the build loads them."""
    paths = sorted(resources.ontology_dir().glob("*.ttl"))
    paths += sorted(resources.data_dir().glob("*.ttl"))
    return [
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph_iri(path.stem)))
        for path in paths
        for t in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE)
    ]


QUADS = shipped_quads()


def dataset(
    remove: tuple[tuple[str, str], ...] = (), add: str = "", quads: list[ox.Quad] | None = None
) -> ox.Store:
    """The shipped dataset without the (subject, predicate) triples in `remove`, with the
    Turtle `add` in a graph of its own."""
    store = ox.Store()
    store.extend(QUADS if quads is None else quads)
    for subject, predicate in remove:
        found = list(store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None))
        assert found, f"nothing to remove: {subject} {predicate}"
        for quad in found:
            store.remove(quad)
    if add:
        graph = ox.NamedNode(graph_iri("test-case"))
        added = ox.parse((PREFIXES + add).encode(), format=ox.RdfFormat.TURTLE)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in added)
    return store


def keys(problems: list[Problem]) -> Counter[tuple[str, str, str, str]]:
    return Counter((p.check, p.focus, p.path, p.message) for p in problems)


def agreed(store: ox.Store) -> Counter[tuple[str, str, str, str]]:
    """The problems of `store`, once it is asserted that pyshacl and both SPARQL plans (a
    lookup per focus node, hash joins) report exactly the same ones."""
    expected = keys(shape_problems(store))
    assert keys(shape_problems_sparql(store)) == expected
    assert keys(shape_problems_sparql(store, many=0)) == expected  # every shape hash-joined
    assert keys(shape_problems_sparql(store, many=10**9)) == expected  # none
    return expected


def test_shipped_data_has_no_problems_for_either_validator() -> None:
    store = dataset()
    assert shape_problems(store) == []
    assert shape_problems_sparql(store) == []


def test_problems_are_sorted_like_shape_problems() -> None:
    store = dataset(remove=((AFG, RDFS_LABEL), (SUMMIT, RDFS_LABEL)))
    problems = shape_problems_sparql(store)
    assert [p.focus for p in problems] == [AFG, SUMMIT]
    assert problems == sorted(problems, key=lambda p: (p.focus, p.path, p.message))


# (case, triples removed, Turtle added, the expected violations as (check, focus, path): count)
CASES = [
    pytest.param(
        ((AFG, RDFS_LABEL),),
        "",
        {(SHAPES + "englishLabel", AFG, RDFS_LABEL): 1},
        id="minCount",
    ),
    pytest.param(
        ((DISAGREEMENT, CICA + "claim"),),
        f"<{DISAGREEMENT}> cica:claim <{CLAIM}> .",
        {(BLANK, DISAGREEMENT, CICA + "claim"): 1},
        id="minCount-2",
    ),
    pytest.param(
        (),
        f'<{AFG}> rdfs:label "Islamic Republic of Afghanistan"@en .',
        {(SHAPES + "englishLabel", AFG, RDFS_LABEL): 1},
        id="maxCount",
    ),
    pytest.param(
        (),  # the same triple in a second graph is one value, not two
        f'<{AFG}> rdfs:label "Afghanistan"@en . <{CITY}> rdfs:label "NYC"@en .',
        {(SHAPES + "englishLabel", CITY, RDFS_LABEL): 1},
        id="maxCount-distinct-values",
    ),
    pytest.param(
        ((MEMBERSHIP, "https://schema.org/startDate"),),
        f'<{MEMBERSHIP}> schema:startDate "1999-09-14" .',
        {(SHAPES + "startDate", MEMBERSHIP, "https://schema.org/startDate"): 1},
        id="datatype",
    ),
    pytest.param(
        ((MEMBERSHIP, "https://schema.org/startDate"),),
        f'<{MEMBERSHIP}> schema:startDate "1999-02-30"^^xsd:date .',
        {(SHAPES + "startDate", MEMBERSHIP, "https://schema.org/startDate"): 1},
        id="datatype-ill-typed",
    ),
    pytest.param(
        ((AFG, CICA + "iso3166Alpha3"),),
        f'<{AFG}> cica:iso3166Alpha3 "Afg" .',
        {(BLANK, AFG, CICA + "iso3166Alpha3"): 1},
        id="pattern",
    ),
    pytest.param(
        # a copy of Afghanistan under an IRI the node-level pattern rejects; the message is
        # pyshacl's default, as StateShape has no sh:message
        (),
        """<https://w3id.org/cica-kg/id/state/afg2> a cica:State ;
            rdfs:label "Afghanistan"@en ; cica:iso3166Alpha2 "AF" ; cica:iso3166Alpha3 "AFG" ;
            dcterms:source <https://w3id.org/cica-kg/id/source/dddr-countries> ;
            owl:sameAs <http://www.wikidata.org/entity/Q889> .""",
        {(SHAPES + "StateShape", ID + "state/afg2", ""): 1},
        id="pattern-node-default-message",
    ),
    pytest.param(
        ((SUMMIT, CICA + "eventStatus"),),
        f"<{SUMMIT}> cica:eventStatus cica:cancelled .",
        {(BLANK, SUMMIT, CICA + "eventStatus"): 1},
        id="in",
    ),
    pytest.param(
        (),  # sh:targetSubjectsOf: naming a priority area makes a membership a coordination
        f"<{MEMBERSHIP}> cica:priorityArea <{ID}priority-area/human-dimension> .",
        {(BLANK, MEMBERSHIP, "http://www.w3.org/ns/org#role"): 1},
        id="in-targetSubjectsOf",
    ),
    pytest.param(
        (),
        f'<{AFG}> skos:altLabel "Afghanistan"@fr .',
        {(BLANK, AFG, "http://www.w3.org/2004/02/skos/core#altLabel"): 1},
        id="languageIn",
    ),
    pytest.param(
        (),
        f'<{DISAGREEMENT}> cica:concerns "the accession" .',
        {(BLANK, DISAGREEMENT, CICA + "concerns"): 1},
        id="nodeKind",
    ),
    pytest.param(
        ((SUMMIT, CICA + "ordinal"),),
        f"<{SUMMIT}> cica:ordinal 0 .",
        {(BLANK, SUMMIT, CICA + "ordinal"): 1},
        id="minInclusive",
    ),
    pytest.param(
        ((SUMMIT, CICA + "ordinal"),),  # not comparable with 1, and not an integer
        f'<{SUMMIT}> cica:ordinal "first" .',
        {(BLANK, SUMMIT, CICA + "ordinal"): 2},
        id="minInclusive-incomparable",
    ),
    pytest.param(
        ((AFG, RDFS_LABEL),),
        f'<{AFG}> rdfs:label ""@en .',
        {(SHAPES + "englishLabel", AFG, RDFS_LABEL): 1},
        id="minLength",
    ),
    pytest.param(
        ((AFG, RDFS_LABEL),),  # not langString, not English, too short: three results
        f'<{AFG}> rdfs:label "" .',
        {(SHAPES + "englishLabel", AFG, RDFS_LABEL): 3},
        id="several-constraints-of-one-shape",
    ),
    pytest.param(
        ((MEMBERSHIP, "http://www.w3.org/ns/org#role"),),
        f"<{MEMBERSHIP}> org:role cica:held .",
        {(BLANK, MEMBERSHIP, "http://www.w3.org/ns/org#role"): 1},
        id="class",
    ),
    pytest.param(
        # a summit is a meeting through rdfs:subClassOf: only the state is a violation
        (),
        f"<{DOCUMENT}> cica:adoptedAt <{SUMMIT}> , <{AFG}> .",
        {(BLANK, DOCUMENT, CICA + "adoptedAt"): 1},
        id="class-subclass-instance",
    ),
    pytest.param(
        # summits are typed cica:Summit only, and targeted as cica:Meeting
        ((SUMMIT, CICA + "meetingType"),),
        "",
        {(BLANK, SUMMIT, CICA + "meetingType"): 1},
        id="targetClass-subclass-instance",
    ),
    pytest.param(
        ((CITY, RDFS_LABEL),),  # two node shapes use cicash:englishLabel: reported twice
        f"<{CITY}> a cica:Person .",
        {(SHAPES + "englishLabel", CITY, RDFS_LABEL): 2},
        id="shared-property-shape",
    ),
    pytest.param(
        (),
        f"<{MEMBERSHIP}> org:member <{ID}source/seed-digwatch> .",
        {
            (BLANK, MEMBERSHIP, "http://www.w3.org/ns/org#member"): 2,  # sh:or, sh:maxCount
        },
        id="or-of-classes",
    ),
    pytest.param(
        # the node-level sh:or with an sh:and: no start date, and not a coordination
        ((MEMBERSHIP, "https://schema.org/startDate"),),
        f'<{MEMBERSHIP}> cica:reportedOn "2024-01-01"^^xsd:date .',
        {(SHAPES + "MembershipShape", MEMBERSHIP, ""): 1},
        id="or-and-node-level",
    ),
    pytest.param(
        # a coordination may do without a start date if it has cica:reportedOn
        ((COORDINATION, CICA + "reportedOn"),),
        "",
        {(SHAPES + "MembershipShape", COORDINATION, ""): 1},
        id="or-and-node-level-coordination",
    ),
]


@pytest.mark.parametrize(("remove", "add", "expected"), CASES)
def test_sparql_and_pyshacl_report_the_injected_violation(
    remove: tuple[tuple[str, str], ...], add: str, expected: dict[tuple[str, str, str], int]
) -> None:
    problems = agreed(dataset(remove, add))
    assert Counter({(c, f, p): n for (c, f, p, _), n in problems.items()}) == Counter(expected)


def test_messages_are_the_shapes_messages_or_pyshacls_defaults() -> None:
    store = dataset(
        remove=((MEMBERSHIP, "https://schema.org/startDate"),),
        add=f"""<{MEMBERSHIP}> cica:reportedOn "2024-01-01"^^xsd:date .
        <https://w3id.org/cica-kg/id/state/afg2> a cica:State ; rdfs:label "Afghanistan"@en ;
            cica:iso3166Alpha2 "AF" ; cica:iso3166Alpha3 "AFG" ;
            dcterms:source <https://w3id.org/cica-kg/id/source/dddr-countries> ;
            owl:sameAs <http://www.wikidata.org/entity/Q889> .""",
    )
    messages = {(check, message) for check, _, _, message in agreed(store)}
    assert messages == {
        (
            SHAPES + "MembershipShape",
            "needs a schema:startDate (coordinations may give cica:reportedOn instead)",
        ),
        (
            SHAPES + "StateShape",
            "Value does not match pattern '^https://w3id\\.org/cica-kg/id/state/[A-Z]{3}$'",
        ),
    }


def store_of(shapes: str, data: str) -> ox.Store:
    """A store with Turtle `shapes` in the shapes graph and `data` in a data graph."""
    store = ox.Store()
    for name, turtle in [("shapes", shapes), ("data", data)]:
        graph = ox.NamedNode(graph_iri(name))
        triples = ox.parse((PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    return store


def test_the_shapes_graph_is_not_validated_as_data() -> None:
    """<urn:x:shapes> would be a focus node, without a comment, were the shapes data."""
    store = store_of(
        """<urn:x:shapes> a owl:Ontology .
        <urn:x:OntologyShape> sh:targetClass owl:Ontology ;
            sh:property [ sh:path rdfs:comment ; sh:minCount 1 ; sh:message "no comment" ] .""",
        "<urn:x:data> a owl:Ontology .",
    )
    assert [(focus, path) for _, focus, path, _ in agreed(store)] == [
        ("urn:x:data", "http://www.w3.org/2000/01/rdf-schema#comment")
    ]


def test_supported_constructs_the_shipped_shapes_do_not_use() -> None:
    """sh:deactivated, sh:severity, sh:flags, and a count above 1 inside sh:or."""
    store = store_of(
        """<urn:x:S> sh:targetClass <urn:x:C> ;
            sh:property [ sh:path <urn:x:p> ; sh:minCount 1 ; sh:deactivated true ] ;
            sh:property [ sh:path <urn:x:q> ; sh:pattern "^ab" ; sh:flags "i" ;
                sh:severity sh:Warning ; sh:message "q" ] ;
            sh:property [ sh:path <urn:x:r> ; sh:message "r" ;
                sh:or ( [ sh:path <urn:x:s> ; sh:minCount 2 ] [ sh:datatype xsd:string ] ) ] .""",
        """<urn:x:a> a <urn:x:C> ; <urn:x:q> "ABc" , "xab" ; <urn:x:r> <urn:x:b> , "str" , 5 .
        <urn:x:b> <urn:x:s> 1 , 2 .""",
    )
    assert agreed(store) == Counter(
        {(BLANK, "urn:x:a", "urn:x:q", "q"): 1, (BLANK, "urn:x:a", "urn:x:r", "r"): 1}
    )


def test_default_messages_are_pyshacls_for_class_datatype_nodekind_pattern() -> None:
    store = store_of(
        """<urn:x:S> sh:targetClass <urn:x:C> ; sh:nodeKind sh:BlankNode ;
            sh:property [ sh:path <urn:x:p> ; sh:class cica:State ; sh:datatype xsd:date ;
                sh:pattern "^[0-9]" ] .""",
        '<urn:x:a> a <urn:x:C> ; <urn:x:p> "x" .',
    )
    assert {message for _, _, _, message in agreed(store)} == {
        "Value is not of Node Kind sh:BlankNode",
        "Value does not have class <https://w3id.org/cica-kg/ontology#State>",
        "Value is not Literal with datatype xsd:date",
        "Value does not match pattern '^[0-9]'",
    }


@pytest.mark.parametrize(
    ("shapes", "error"),
    [
        pytest.param(
            """<urn:x:S> sh:targetClass cica:State ; sh:property [ sh:path cica:claim ;
                sh:qualifiedValueShape [ sh:class cica:Claim ] ; sh:qualifiedMinCount 1 ] .""",
            "blank shape with sh:path <https://w3id.org/cica-kg/ontology#claim> in <urn:x:S>: "
            "sh:qualifiedValueShape is not supported",
            id="qualifiedValueShape",
        ),
        pytest.param(
            """<urn:x:S> sh:targetClass cica:State ;
                sh:sparql [ sh:select "SELECT $this WHERE { }" ] .""",
            "<urn:x:S>: sh:sparql is not supported",
            id="sparql",
        ),
        pytest.param(
            f"<urn:x:S> sh:targetNode <{AFG}> ; sh:nodeKind sh:IRI .",
            "<urn:x:S>: sh:targetNode is not supported",
            id="targetNode",
        ),
        pytest.param(
            """<urn:x:S> sh:targetClass cica:State ;
                sh:property [ sh:path [ sh:inversePath cica:host ] ; sh:maxCount 1 ] .""",
            "blank shape in <urn:x:S>: sh:inversePath is not supported",
            id="inverse-path",
        ),
        pytest.param(
            """<urn:x:S> sh:targetClass cica:State ;
                sh:property [ sh:path ( cica:host cica:ordinal ) ; sh:maxCount 1 ] .""",
            "only IRI paths are supported",
            id="sequence-path",
        ),
        pytest.param(
            "<urn:x:S> a sh:NodeShape , rdfs:Class ; sh:nodeKind sh:IRI .",
            "<urn:x:S>: implicit class targets",
            id="implicit-class-target",
        ),
        pytest.param(
            "<urn:x:S> sh:targetClass cica:State ; sh:pattern '^a' , '^b' .",
            "<urn:x:S>: more than one sh:pattern is not supported",
            id="repeated-parameter",
        ),
    ],
)
def test_unsupported_constructs_raise_at_compile_time(shapes: str, error: str) -> None:
    with pytest.raises(ShapeCompileError) as caught:
        compile_shapes(ox.parse((PREFIXES + shapes).encode(), format=ox.RdfFormat.TURTLE))
    assert error in str(caught.value)


def test_the_shipped_shapes_compile_to_one_query_per_constraint() -> None:
    shapes = Path(resources.ontology_dir(), "shapes.ttl").read_bytes()
    constraints = compile_shapes(ox.parse(shapes, format=ox.RdfFormat.TURTLE))
    components = {c.component.split()[0] for c in constraints}
    assert components == {
        "sh:class",
        "sh:datatype",
        "sh:in",
        "sh:languageIn",
        "sh:maxCount",
        "sh:minCount",
        "sh:minInclusive",
        "sh:minLength",
        "sh:nodeKind",
        "sh:or",
        "sh:pattern",
    }
    assert all(c.query.startswith("SELECT") for c in constraints)


# Triples a random edit may drop: the ones the shapes look at, from a few kinds of node.
EDITABLE = [
    q
    for q in QUADS
    if q.subject.value in {AFG, SUMMIT, MEMBERSHIP, COORDINATION, DISAGREEMENT, DOCUMENT, CITY}
]
REPLACEMENTS = [
    ox.Literal("x"),
    ox.Literal("x", language="fr"),
    ox.Literal("0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
    ox.Literal("2020-01-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
    ox.NamedNode(AFG),
    ox.NamedNode(SUMMIT),
    ox.NamedNode(CICA + "coordinatorRole"),
    ox.BlankNode("b"),
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dropped=st.sets(st.sampled_from(EDITABLE), max_size=4),
    changed=st.lists(
        st.tuples(st.sampled_from(EDITABLE), st.sampled_from(REPLACEMENTS)), max_size=3
    ),
)
def test_random_edits_give_the_same_problems_as_pyshacl(
    dropped: set[ox.Quad], changed: list[tuple[ox.Quad, ox.NamedNode | ox.BlankNode | ox.Literal]]
) -> None:
    quads = [q for q in QUADS if q not in dropped]
    quads += [ox.Quad(q.subject, q.predicate, new, q.graph_name) for q, new in changed]
    agreed(dataset(quads=quads))
