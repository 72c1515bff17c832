"""/sparql: the SPARQL 1.1 Protocol query operation and the service description."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, request

from .. import errors, formats
from ..browse.service_description import describe
from ..namespaces import VOCABULARIES
from ..query import Job
from ..query.lexer import ABSOLUTE_IRI
from .context import get_engine, get_settings
from .editor import editor_page
from .responses import answer_response, cache_headers, choose_format, matches, not_modified

blueprint = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@blueprint.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    if request.method == "OPTIONS":
        return preflight()
    params = _protocol_params()
    queries = params.getlist("query")
    if queries and "update" in params:
        raise errors.BadRequest("send either `query` or `update`, not both")
    if "update" in params or request.mimetype == UPDATE:
        raise errors.Forbidden("SPARQL Update is not allowed: this endpoint is read-only")
    if len(queries) > 1:
        raise errors.BadRequest(f"{len(queries)} `query` parameters given; send exactly one")
    if not queries:
        if request.method == "POST":
            raise errors.BadRequest("no `query` parameter and no query in the body")
        return service_description()
    return answer_query(queries[0], params)


def _protocol_params():  # type: ignore[no-untyped-def]
    """The protocol parameters, from the URL (GET, direct POST) or the form (form POST)."""
    from werkzeug.datastructures import MultiDict

    if request.method == "GET":
        return request.args
    if request.mimetype == FORM:
        merged = MultiDict(request.args)
        for key, values in request.form.lists():
            merged.setlist(key, merged.getlist(key) + values)
        return merged
    if request.mimetype == QUERY:
        try:
            text = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.BadRequest(f"the query is not valid UTF-8: {exc.reason}") from None
        merged = MultiDict(request.args)
        merged.setlist("query", [text] + request.args.getlist("query"))
        return merged
    if request.mimetype == UPDATE:
        return request.args
    raise errors.UnsupportedMediaType(
        f"POST bodies must be {FORM} or {QUERY}; got {request.mimetype or 'none'}"
    )


def answer_query(query: str, params) -> Response:  # type: ignore[no-untyped-def]
    engine, settings = get_engine(), get_settings()
    info = engine.inspect(query)
    default_graphs = graph_iris(params, "default-graph-uri")
    named_graphs = graph_iris(params, "named-graph-uri")
    fmt = choose_format(info.form, params.get("format"))
    job = Job(
        query=query,
        format_name=fmt.name,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
        max_rows=settings.max_result_rows,
        max_bytes=settings.max_result_bytes,
    )
    etag = engine.etag(job, info)
    if etag and matches(etag):
        return not_modified(etag)
    return answer_response(engine.run(job, info))


def graph_iris(params, name: str) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The absolute IRIs given as a protocol dataset parameter; 400 for anything else."""
    values = tuple(params.getlist(name))
    for value in values:
        if not ABSOLUTE_IRI.fullmatch(value):
            raise errors.BadRequest(f"{name} must be an absolute IRI; got {value!r}")
    return values


def service_description() -> Response:
    """The service description in the RDF format asked for; browsers get the query editor."""
    offered = list(formats.GRAPH_FORMATS)
    if formats.prefers_html(request.headers.get("Accept"), offered):
        return editor_page()
    fmt = choose_format("CONSTRUCT", request.args.get("format"), offered)
    engine = get_engine()
    build = engine.build()
    etag = f'"{build.build_id}-sd-{fmt.name}"'
    if matches(etag):
        return not_modified(etag)
    triples = describe(request.base_url, build)
    assert fmt.rdf is not None
    body = ox.serialize(triples, format=fmt.rdf, prefixes=_sd_prefixes(fmt)) or b""
    return cache_headers(Response(body, content_type=fmt.content_type), etag)


def _sd_prefixes(fmt: formats.Format) -> dict[str, str] | None:
    if fmt.name not in ("ttl", "rdfxml"):
        return None
    return {
        "sd": "http://www.w3.org/ns/sparql-service-description#",
        "formats": "http://www.w3.org/ns/formats/",
        "void": VOCABULARIES["void"],
        "dcterms": VOCABULARIES["dcterms"],
    }


def preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("Access-Control-Request-Headers") or "Accept, Content-Type"
    )
    response.headers["Access-Control-Max-Age"] = "86400"
    return response
