"""/queries: the canned-query catalogue as pages, JSON and CSV, and as SPARQL examples."""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, g, render_template, request, url_for

from .. import canned, currency, errors, formats
from ..canned import CannedQuery
from .context import get_engine, get_iris, get_settings
from .responses import answer_response, choose_format, json_response, matches, not_modified

blueprint = Blueprint("queries", __name__)


def catalogue() -> dict[str, CannedQuery]:
    return canned.cached_catalogue(get_settings().queries_dir, get_settings().base_iri)


def find(name: str) -> CannedQuery:
    query = catalogue().get(name)
    if query is None:
        raise errors.NotFound(f"there is no canned query named {name!r}; see /queries")
    return query


@blueprint.route("/queries")
@blueprint.route("/queries.json", endpoint="index_json")
def index() -> Response | str:
    queries = list(catalogue().values())
    if request.path.endswith(".json"):
        return json_response(
            [
                {
                    "name": q.name,
                    "title": q.title,
                    "description": q.description,
                    "tags": list(q.tags),
                    "parameters": [p.__dict__ for p in q.params],
                    "url": url_for("queries.show", name=q.name, _external=True),
                }
                for q in queries
            ]
        )
    return render_template("queries.html", queries=queries)


def _params() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "format" and v.strip()}


@blueprint.route("/queries/<name>.json", defaults={"suffix": "json"})
@blueprint.route("/queries/<name>.csv", defaults={"suffix": "csv"})
@blueprint.route("/queries/<name>.tsv", defaults={"suffix": "tsv"})
@blueprint.route("/queries/<name>.xml", defaults={"suffix": "xml"})
def data(name: str, suffix: str) -> Response:
    query = find(name)
    g.as_of = currency.as_of(query, _params())
    fmt = choose_format(query.form, suffix)
    engine = get_engine()
    job = canned.job(engine, query, _params(), fmt.name)
    info = engine.inspect(job.query)
    etag = engine.etag(job, info)
    if etag and matches(etag):  # answered before the query runs
        return not_modified(etag)
    return answer_response(engine.run(job, info))


@blueprint.route("/queries/<name>")
def show(name: str) -> Response | str:
    query = find(name)
    g.as_of = currency.as_of(query, _params())
    if request.args.get("format"):
        fmt = choose_format(query.form, request.args["format"])
        return answer_response(canned.run(get_engine(), query, _params(), fmt.name))
    params = _params()
    error, result, warning = None, None, None
    missing = [p.name for p in query.params if p.required and p.name not in params]
    status = 200
    if not missing and query.form in ("SELECT", "ASK"):  # other forms: as data only
        try:
            answer = canned.run(get_engine(), query, params, "json")
            result = json.loads(answer.body)
            result["truncated"] = answer.truncated
            warning = currency.warning(currency.data_current_to(get_engine()), g.as_of)
        except errors.BadRequest as exc:
            error, status = exc.message, exc.status
    # Parameters go in the query string by hand: as url_for() keywords they could collide
    # with its own (_external, _method…) or the route's (name, suffix).
    query_string = ("?" + urlencode(params)) if params else ""
    csv_url = url_for("queries.data", name=name, suffix="csv", _external=True) + query_string
    page = render_template(
        "query.html",
        query=query,
        values=params,
        result=result,
        error=error,
        editor_url=url_for("sparql.endpoint") + "#query=" + quote(query.text),
        json_url=url_for("queries.data", name=name, suffix="json") + query_string,
        csv_url=url_for("queries.data", name=name, suffix="csv") + query_string,
        curl=f"curl {shlex.quote(csv_url)}",
        prefixes=get_iris().prefixes,
        share_url=url_for("queries.show", name=name, _external=True) + query_string,
        warning=warning,
    )
    return Response(page, status=status, mimetype="text/html")


@blueprint.route("/.well-known/sparql-examples")
def examples() -> Response:
    """The catalogue as RDF (SIB sparql-examples convention), Turtle by default."""
    fmt = choose_format("CONSTRUCT", request.args.get("format"), list(formats.GRAPH_FORMATS))
    endpoint = url_for("sparql.endpoint", _external=True)
    triples = canned.examples_rdf(catalogue(), endpoint)
    prefixes = {k: get_iris().prefixes[k] for k in ("rdfs", "schema", "sh")}
    assert fmt.rdf is not None
    body = ox.serialize(triples, format=fmt.rdf, prefixes=prefixes) or b""
    return Response(body, content_type=fmt.content_type)
