"""HTTP conventions (issue 11, item 5, in part), over a real server: HEAD on every GET resource,
strong If-Match, If-None-Match answered with 304."""

from __future__ import annotations

import httpx

from tests.conftest import Server

PLATFORM = {"type": "DataPlatform", "id": "platform/http-conventions", "name": "conventions"}


def test_head_answers_like_get_without_a_body(http: httpx.Client) -> None:
    assert http.post("/api/v1/assets:bulk", json=[PLATFORM]).status_code == 200
    for path in ("/api/v1/assets", "/api/v1/assets?type=DataPlatform", "/api/v1/search?q=x",
                 "/api/v1/rules", "/api/v1/attributes", "/api/v1/assets/platform/http-conventions",
                 "/store?default", "/openapi.json", "/"):
        get, head = http.get(path), http.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path
        if "search" not in path:  # search answers carry their own timing, so lengths vary
            assert head.headers.get("content-length") == str(len(get.content)), path
        assert int(head.headers["content-length"]) > 0, path
    assert http.head("/api/v1/assets/platform/no-such-thing").status_code == 404


def test_if_match_is_strong_and_if_none_match_gives_304(server: Server,
                                                         http: httpx.Client) -> None:
    http.post("/api/v1/assets:bulk", json=[PLATFORM])
    path = "/api/v1/assets/platform/http-conventions"
    etag = http.get(path).headers["etag"]
    assert http.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert http.get(path, headers={"If-None-Match": f'W/{etag}, "0"'}).status_code == 304
    assert http.get(path, headers={"If-None-Match": '"0"'}).status_code == 200
    weak = http.patch(path, json={"description": "weak"}, headers={"If-Match": f"W/{etag}"})
    assert weak.status_code == 412, weak.text  # a weak ETag never matches If-Match
    assert http.get(path).json().get("description") != "weak"
    strong = http.patch(path, json={"description": "strong"}, headers={"If-Match": etag})
    assert strong.status_code == 200 and strong.headers["etag"] != etag
    assert http.get(path, headers={"If-None-Match": etag}).status_code == 200  # changed since


def test_content_negotiation_honours_q_values_and_specificity(http: httpx.Client) -> None:
    ask = {"query": "SELECT (1 AS ?x) {}"}

    def served(accept: str) -> tuple[int, str]:
        r = http.get("/sparql", params=ask, headers={"Accept": accept})
        return r.status_code, r.headers.get("content-type", "").split(";")[0]

    assert served("*/*") == (200, "application/sparql-results+json")  # the default first
    assert served("text/csv;q=0.5, text/*;q=0.6") == (200, "text/tab-separated-values")
    assert served("text/*, text/csv;q=0.1") == (200, "text/tab-separated-values")
    assert served("*/*;q=0.1, text/csv;q=0.1") == (200, "text/csv")  # equal q: the specific one
    assert served("application/sparql-results+json; charset=utf-8") == (
        200, "application/sparql-results+json")
    assert served("text/csv;q=0, application/sparql-results+xml;q=0.2, */*;q=0.1") == (
        200, "application/sparql-results+xml")
    assert served("image/png")[0] == 406
    assert served("text/csv;q=0")[0] == 406
    # a browser's Accept gets HTML; HTML is never chosen for */* alone
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert served(browser) == (200, "text/html")


def test_location_headers_are_paths_that_lead_to_what_was_made(http: httpx.Client) -> None:
    made = [http.post("/api/v1/assets", json={"type": "DataPlatform", "id": "platform/made-here",
                                              "name": "made here"}),
            http.post("/api/v1/rules", json={"name": "Made here", "construct": (
                "CONSTRUCT { ?this <https://w3id.org/semcat#hasTag> <http://127.0.0.1:8000/id/"
                "tag/made> } WHERE { ?this a <https://w3id.org/semcat#Dashboard> }")}),
            http.post("/api/v1/keys", json={"subject": "user/made", "admin": True})]
    for r in made:
        assert r.status_code == 201, r.text
        location = r.headers["location"]
        assert location.startswith("/") and "://" not in location, location
        assert http.get(location).status_code == 200, location


def test_writes_carry_their_log_position_and_reads_can_wait_for_it(http: httpx.Client) -> None:
    r = http.post("/api/v1/assets?wait=true", json={"type": "DataPlatform",
                                                    "id": "platform/positioned",
                                                    "name": "positioned platform"})
    assert r.status_code == 201, r.text
    position = int(r.headers["semcat-position"])
    assert position >= 1 and http.get("/healthz").json()["appliedSeq"] >= position
    # a read after that position sees the write everywhere, search included
    found = http.get("/api/v1/search", params={"q": "positioned", "mode": "keyword",
                                               "after": str(position)}).json()
    assert "platform/positioned" in [h["id"] for h in found["hits"]]
    assert http.get("/readyz").json()["lag"]["text"] == 0
    assert "semcat-position" not in http.get("/api/v1/assets").headers  # reads carry none
    bad = http.get("/api/v1/assets", params={"after": "soon"})
    assert bad.status_code == 400 and "after" in bad.json()["detail"]
    refused = http.post("/api/v1/assets", json={"type": "NoSuchType", "id": "x/y"})
    assert refused.status_code >= 400 and "semcat-position" not in refused.headers
