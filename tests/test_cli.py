"""`python -m semcat` in a subprocess: the commands a new user types."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from tests.conftest import ROOT


def semcat(
    *args: str, data: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "semcat", *args] + (["--data", str(data)] if data else [])
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)})


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli") / "demo"
    r = semcat("demo", data=data)
    assert r.returncode == 0, r.stderr
    assert "1,910 assets" in r.stderr.replace("\n", " ")
    return data


def test_help_teaches() -> None:
    r = semcat("--help")
    assert r.returncode == 0
    for command in ("serve", "demo", "load", "query", "export", "history"):
        assert command in r.stdout
    assert "Example" in semcat("query", "--help").stdout


def test_query_formats(demo_dir: Path) -> None:
    q = ("PREFIX semcat: <https://w3id.org/semcat#> SELECT ?name WHERE { ?t a semcat:Table ; "
         "semcat:name ?name } ORDER BY ?name LIMIT 3")
    as_csv = semcat("query", q, "--format", "csv", data=demo_dir)
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["name"] and len(rows) == 4
    as_json = json.loads(semcat("query", q, "--format", "json", data=demo_dir).stdout)
    assert [b["name"]["value"] for b in as_json["results"]["bindings"]] == [r[0] for r in rows[1:]]
    table = semcat("query", q, data=demo_dir)
    assert rows[1][0] in table.stdout and "3 rows" in table.stderr
    construct = semcat("query", "-", "--format", "turtle", data=demo_dir,
                       stdin="CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 5")
    assert len(Graph().parse(data=construct.stdout, format="turtle")) == 5


def test_bad_query_exits_2_with_the_parsers_message(demo_dir: Path) -> None:
    r = semcat("query", "SELECT WHERE", data=demo_dir)
    assert r.returncode == 2 and "error" in r.stderr


def test_history_of_a_demo_asset(demo_dir: Path) -> None:
    r = semcat("history", "acme/table/postgres/shop.public.orders", "--format", "json", data=demo_dir)
    versions = json.loads(r.stdout)
    assert versions[0]["version"] == 1 and versions[0]["actor"] == "demo"
    missing = semcat("history", "acme/table/postgres/nope", data=demo_dir)
    assert missing.returncode == 3 and "no asset" in missing.stderr


FORMATS = {
    "data.ttl": "@prefix ex: <http://example.org/> . ex:a ex:p ex:b ; ex:name \"A\" .",
    "data.nt": "<http://example.org/c> <http://example.org/p> <http://example.org/d> .",
    "data.nq": "<http://example.org/e> <http://example.org/p> \"1\" <http://example.org/g> .",
    "data.jsonld": json.dumps({"@id": "http://example.org/f", "http://example.org/p": "x"}),
    "data.rdf": ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                 'xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/h">'
                 '<ex:p>y</ex:p></rdf:Description></rdf:RDF>'),
}


def test_load_every_format_then_export_round_trips(tmp_path: Path) -> None:
    data = tmp_path / "cat"
    files = []
    for name, text in FORMATS.items():
        (tmp_path / name).write_text(text)
        files.append(str(tmp_path / name))
    (tmp_path / "big.nt.gz").write_bytes(gzip.compress(b"".join(
        f"<http://example.org/n{i}> <http://example.org/p> \"{i}\" .\n".encode() for i in range(500))))
    files.append(str(tmp_path / "big.nt.gz"))
    r = semcat("load", *files, data=data)
    assert r.returncode == 0, r.stderr
    assert "500 triples changed" in r.stderr
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/p> ?o }"
    count = json.loads(semcat("query", q, "-f", "json", data=data).stdout)
    assert count["results"]["bindings"][0]["n"]["value"] == "505"
    again = semcat("load", files[1], data=data)
    assert "0 triples changed" in again.stderr  # idempotent
    exported = semcat("export", "--format", "nq", data=data).stdout
    ds = Dataset()
    ds.parse(data=exported, format="nquads")
    assert len(list(ds.quads((None, None, None, None)))) > 505
    out = tmp_path / "all.trig"
    assert semcat("export", "-f", "trig", "-o", str(out), data=data).returncode == 0
    data2 = tmp_path / "cat2"
    assert semcat("load", str(out), data=data2).returncode == 0
    mine = ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o "
            "FILTER(STRSTARTS(STR(?s), 'http://example.org/')) }")
    ex1 = Graph().parse(data=semcat("query", mine, "-f", "ntriples", data=data).stdout, format="nt")
    ex2 = Graph().parse(data=semcat("query", mine, "-f", "ntriples", data=data2).stdout, format="nt")
    assert len(ex1) == 506 and isomorphic(ex1, ex2)


def test_bad_file_exits_2_and_loads_nothing(tmp_path: Path) -> None:
    data = tmp_path / "cat"
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_text("<http://example.org/a> <http://example.org/p> 1 .")
    bad.write_text("<http://example.org/a> <http://example.org/p> .\n")
    r = semcat("load", str(bad), data=data)
    assert r.returncode == 2 and "line 1" in r.stderr
    assert semcat("load", str(tmp_path / "missing.ttl"), data=data).returncode == 2
    assert semcat("load", str(tmp_path / "x.docx"), data=data).returncode == 2
    q = "ASK { <http://example.org/a> ?p ?o }"
    assert json.loads(semcat("query", q, "-f", "json", data=data).stdout)["boolean"] is False
    semcat("load", str(good), data=data)
    assert json.loads(semcat("query", q, "-f", "json", data=data).stdout)["boolean"] is True


def test_demo_refuses_to_wipe_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    r = semcat("demo", data=tmp_path)
    assert r.returncode == 2 and (tmp_path / "precious.txt").exists()


def test_validate_conforms_then_reports_planted_violations(tmp_path: Path) -> None:
    data = tmp_path / "cat"
    semcat("demo", data=data)
    ok = semcat("validate", data=data)
    assert ok.returncode == 0 and "conforms" in ok.stderr
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix semcat: <https://w3id.org/semcat#> .\n"
                   "<http://127.0.0.1:8000/id/acme/column/pg/x.y.z> a semcat:Column ; "
                   'semcat:name "z" .\n')
    refused = semcat("load", str(bad), data=data)
    assert refused.returncode == 2 and "partOf" in refused.stderr + refused.stdout
    planted = subprocess.run(  # a migration that validates afterwards may turn validation off
        [sys.executable, "-m", "semcat", "load", str(bad), "--data", str(data)], cwd=ROOT,
        capture_output=True, text=True, env={"SEMCAT_VALIDATE_WRITES": "false",
                                            "PATH": "/usr/bin:/bin", "HOME": str(ROOT)})
    assert planted.returncode == 0, planted.stderr
    report = semcat("validate", "--format", "json", data=data)
    assert report.returncode == 1
    results = json.loads(report.stdout)["results"]
    assert {r["path"].rsplit("#")[-1] for r in results if r["severity"] == "Violation"} >= {
        "partOf", "dataType", "qualifiedName", "workspace"}
    turtle = semcat("validate", "--format", "turtle", "--workspace", "acme", data=data)
    g = Graph().parse(data=turtle.stdout, format="turtle")
    assert len(g) > 0  # the planted column is in no workspace graph but the default one
    table = semcat("validate", data=data)
    assert table.returncode == 1 and "does NOT conform" in table.stderr
