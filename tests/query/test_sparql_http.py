"""The one SPARQL-over-HTTP client (cica_kg.sparql_http) against a local stand-in: its
User-Agent, its errors (one type, 502/504), its retries, and how the remote engine maps them
to the embedded store's statuses."""

from __future__ import annotations

import json

import pytest
from conftest import free_port
from standin import Recorded, Reply, StandIn

from cica_kg import errors
from cica_kg.query.remote import RemoteEngine
from cica_kg.sparql_http import PROJECT_URL, Retry, SparqlHttp, user_agent

ROWS = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal",
                  "value": "1"}}]}}).encode()  # fmt: skip


def test_one_user_agent_with_a_contact_and_the_form_post() -> None:
    with StandIn(lambda rec: Reply(body=ROWS)) as standin, SparqlHttp(standin.url) as http:
        assert http.select("SELECT ?n {}") == [{"n": {"type": "literal", "value": "1"}}]
        rec = standin.requests[0]
    assert rec.headers["User-Agent"] == user_agent()
    assert user_agent().startswith("CICA-KG/1.") and f"({PROJECT_URL}; " in user_agent()
    assert "python-requests/" in user_agent()  # WDQS policy: contact and library
    assert (rec.method, rec.query) == ("POST", "SELECT ?n {}")
    assert rec.headers["Accept"] == "application/sparql-results+json"


def test_failures_without_retries_are_reported_as_they_happened() -> None:
    with StandIn(lambda rec: Reply(500, b"boom", "text/plain")) as broken:
        http = SparqlHttp(broken.url, name="the engine X")
        with pytest.raises(errors.RemoteError) as caught:
            http.select("ASK {}")
    assert caught.value.message == "the engine X answered HTTP 500: boom"
    assert (caught.value.status, caught.value.http_status, caught.value.body) == (502, 500, "boom")
    with StandIn(lambda rec: Reply(body=ROWS, delay=2.0)) as slow:
        http = SparqlHttp(slow.url, name="the engine X", timeout=0.3, timeout_setting="t_limit")
        with pytest.raises(errors.RemoteTimeout) as timed_out:
            http.select("ASK {}")
    assert timed_out.value.message == "the engine X did not answer within 0.3 s (t_limit)"
    assert timed_out.value.status == 504
    with StandIn(lambda rec: Reply(body=b"not json", content_type="text/plain")) as odd:
        with pytest.raises(errors.RemoteError, match="^the engine at .* cannot be read: "):
            SparqlHttp(odd.url).select("ASK {}")
    gone = SparqlHttp(f"http://127.0.0.1:{free_port()}/q", name="the engine X")
    with pytest.raises(errors.RemoteError, match="^the engine X cannot be reached: "):
        gone.select("ASK {}")
    assert gone.requests_made == 1  # no retry unless asked


def test_retries_honour_retry_after_within_the_bound() -> None:
    replies = [Reply(429, b"slow down", "text/plain", headers={"Retry-After": "7"}),
               Reply(503, b"", "text/plain"), Reply(body=ROWS)]  # fmt: skip
    waits: list[float] = []
    with StandIn(lambda rec: replies.pop(0)) as standin:
        http = SparqlHttp(standin.url, retry=Retry(3, 0.25, 10.0, waits.append))
        assert len(http.select("ASK {}")) == 1
    assert waits == [7.0, 0.5] and http.requests_made == 3  # Retry-After, then backoff
    too_long = Reply(429, b"", "text/plain", headers={"Retry-After": "3600"})
    with StandIn(lambda rec: too_long) as standin:
        http = SparqlHttp(standin.url, name="W", retry=Retry(3, 0.25, 10.0, waits.append))
        with pytest.raises(errors.RemoteError, match=r"^W asks to wait 3600 s \(Retry-After"):
            http.select("ASK {}")
    assert http.requests_made == 1
    with StandIn(lambda rec: Reply(400, b" MalformedQuery ", "text/plain")) as standin:
        http = SparqlHttp(standin.url, name="W", retry=Retry(3, 0.25, 10.0, waits.append))
        with pytest.raises(errors.RemoteError) as refused:
            http.select("ASK {")
    assert refused.value.message == "W refused the query: HTTP 400 MalformedQuery"
    assert http.requests_made == 1  # asking again cannot help
    with StandIn(lambda rec: Reply(502, b"", "text/plain")) as standin:
        http = SparqlHttp(standin.url, name="W", retry=Retry(2, 0.25, 10.0, waits.append))
        with pytest.raises(errors.RemoteError, match=r"^could not reach W after 3 attempt\(s\)"):
            http.select("ASK {}")


def test_the_remote_engine_answers_as_the_embedded_store_would() -> None:
    def handler(rec: Recorded) -> Reply:
        if "slow" in rec.query:
            return Reply(body=ROWS, delay=2.0)
        return Reply(400, b"Parse error at 1:5", "text/plain")

    with StandIn(handler) as standin:
        engine = RemoteEngine(standin.url)
        with pytest.raises(errors.QueryTimeout) as timed_out:  # 503, as a local query
            engine.post("ASK { slow }", "application/sparql-results+json", 0.3)
        with pytest.raises(errors.BadRequest) as refused:  # the query is at fault: 400
            engine.post("ASK {", "application/sparql-results+json", 5.0)
        engine.close()
    assert timed_out.value.message == (
        "the query engine did not answer within 0.3 s (query_timeout)"
    )
    assert refused.value.message == "the query engine refused the query: Parse error at 1:5"
