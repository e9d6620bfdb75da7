"""Classification rules: SPARQL CONSTRUCT queries that governance roles write, checked and run.

A rule concludes statements about one asset, always called ``?this``::

    CONSTRUCT { ?this semcat:classification <classification/pii/email> }
    WHERE { ?this a semcat:Column ; semcat:name ?n ; semcat:dataType ?t .
            FILTER(REGEX(?n, "e_?mail", "i") && REGEX(?t, "CHAR|TEXT|STRING", "i")) }

That contract is what makes rules incremental: when a changeset touches assets, each rule runs
with ``VALUES ?this { ... }`` bound to just those assets, and its conclusions about them are
diffed against what is stored. Relative IRIs resolve against the catalog's id base
(``<classification/pii/email>`` is that classification) and the usual prefixes (semcat, rdf,
rdfs, owl, xsd, dcterms, dcat, prov, skos, ...) are predeclared. Rules read asserted data only
(not their own or the reasoner's conclusions), so they cannot feed each other and retraction
needs no truth maintenance; a rule may read other resources (a glossary term, a tag), but is re-
run for an asset only when that asset changes or when rules change (``Classifier.reapply``
reruns everything).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pyoxigraph import BlankNode, Literal, NamedNode
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from graph_store.errors import InputError, QuerySyntaxError
from graph_store.journal import SYSTEM_PREDICATES
from graph_store.protocol import Dataset, GraphStore, QuadSource
from graph_store.rdflib_bridge import to_oxigraph
from graph_store.sparql_guard import blank_non_code, query_dataset, refuse_outbound
from graph_store.sparql_limits import SparqlLimits, check_sparql
from ontology.namespaces import PREFIXES, RDF_TYPE, SEMCAT

__all__ = ["CompiledRule", "Rule", "check_rule_texts", "compile_rule", "read_rules"]

FOCUS: Final = "this"
BATCH: Final = 400  # assets per VALUES block
RULE_CLASS: Final = NamedNode(SEMCAT + "ClassificationRule")
CONSTRUCT_TEXT: Final = NamedNode(SEMCAT + "construct")
ENABLED: Final = NamedNode(SEMCAT + "enabled")
NAME: Final = NamedNode(SEMCAT + "name")
DESCRIPTION: Final = NamedNode(SEMCAT + "description")
_TYPE: Final = NamedNode(RDF_TYPE)
_PROLOGUE: Final = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
_CONSTRUCT: Final = re.compile(r"(?<![\w:?$])CONSTRUCT\b", re.IGNORECASE)
_SELECT_LIKE: Final = re.compile(r"(?<![\w:?$])(SELECT|ASK|DESCRIBE|INSERT|DELETE|WITH|CLEAR|"
                                 r"DROP|CREATE|ADD|MOVE|COPY)\b", re.IGNORECASE)

Term = Any  # NamedNode | BlankNode | Literal, or a variable name (str) in patterns
Triple3 = tuple[Any, NamedNode, Any]


def _closing_brace(masked: str, start: int) -> int:
    depth = 0
    for i in range(start, len(masked)):
        if masked[i] == "{":
            depth += 1
        elif masked[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise InputError("the rule's braces do not balance")


@dataclass(frozen=True)
class CompiledRule:
    """A checked rule text and the pieces needed to run it: where ``VALUES`` goes, its
    ``SELECT *`` twin (for explanations), the template and the WHERE clause's plain triple
    patterns (variables as ``str``)."""

    text: str  # prologue + the author's text
    values_at: int
    select_text: str
    select_values_at: int
    template: tuple[tuple[Term, NamedNode, Term], ...]
    patterns: tuple[tuple[Term, Term, Term], ...]
    required: tuple[tuple[NamedNode, Term], ...] = ()  # (p, o) every match has on ?this

    def may_match(self, store: QuadSource, subject: NamedNode) -> bool:
        """False when ``subject`` lacks a statement every solution needs (a cheap look-up that
        spares running the query for assets the rule cannot be about)."""
        for p, o in self.required:
            found = store.quads(subject, p, None if isinstance(o, str) else o)
            if next(iter(found), None) is None:
                return False
        return True

    def bound(self, subjects: Sequence[NamedNode] | None, *, select: bool = False) -> str:
        """The query with ``?this`` bound to ``subjects`` (all assets when None)."""
        text, at = (self.select_text, self.select_values_at) if select else \
            (self.text, self.values_at)
        if subjects is None:
            return text
        values = " ".join(str(s) for s in subjects)
        return f"{text[:at]} VALUES ?{FOCUS} {{ {values} }} {text[at:]}"


def _convert(term: Any) -> Term:
    if isinstance(term, Variable):
        return str(term)
    return to_oxigraph(term)


def _patterns(node: Any) -> Iterator[tuple[Term, Term, Term]]:
    """The plain triple patterns of every basic graph pattern (property paths left out)."""
    if isinstance(node, CompValue):
        if node.name == "BGP":
            for s, p, o in node.get("triples") or ():
                if isinstance(p, URIRef | Variable):
                    yield _convert(s), _convert(p), _convert(o)
            return
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


_MANDATORY: Final = {"Project": ("p",), "Filter": ("p",), "Join": ("p1", "p2"),
                     "LeftJoin": ("p1",), "Extend": ("p",), "Distinct": ("p",),
                     "Reduced": ("p",), "Slice": ("p",), "OrderBy": ("p",),
                     "ToMultiSet": ("p",), "ConstructQuery": ("p",)}


def _required(node: Any) -> Iterator[tuple[NamedNode, Term]]:
    """(predicate, object) of the ``?this`` patterns outside OPTIONAL, UNION, MINUS, GRAPH,
    subqueries and filters: statements about ``?this`` that every solution matched."""
    if not isinstance(node, CompValue):
        return
    if node.name == "BGP":
        for s, p, o in node.get("triples") or ():
            if s == Variable(FOCUS) and isinstance(p, URIRef) and o != Variable(FOCUS):
                yield NamedNode(str(p)), _convert(o)
        return
    for key in _MANDATORY.get(node.name, ()):
        yield from _required(node.get(key))


def compile_rule(text: str, base_iri: str) -> CompiledRule:
    """Check a rule's text: one SPARQL CONSTRUCT, no SERVICE / LOAD (Forbidden), no FROM,
    a template whose every triple is about ``?this`` with an IRI predicate other than the
    catalog's own bookkeeping, and a WHERE clause that binds ``?this``. InputError (or
    QuerySyntaxError) says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("a rule needs its SPARQL CONSTRUCT text in 'construct'")
    check_sparql(text, SparqlLimits(), what="rule")
    refuse_outbound(text)
    full = _PROLOGUE + text
    masked = blank_non_code(full)
    found = _CONSTRUCT.search(masked)
    other = _SELECT_LIKE.search(masked)
    if found is None or (other is not None and other.start() < found.start()):
        raise InputError("a rule is a SPARQL CONSTRUCT query (CONSTRUCT { ?this ... } WHERE "
                         "{ ... }); other query forms and updates are not rules")
    if query_dataset(full, base_iri) != ([], []):
        raise InputError("a rule runs over the catalog's asserted data: remove FROM / FROM NAMED")
    try:
        algebra = translateQuery(parseQuery(full), base=base_iri).algebra
    except Exception as e:  # pyparsing's and rdflib's errors: all are the author's input
        raise QuerySyntaxError(f"the rule is not valid SPARQL: {e}") from e
    if algebra.name != "ConstructQuery":
        raise InputError("a rule is a SPARQL CONSTRUCT query")
    brace = masked.find("{", found.end())
    if brace < 0 or masked[found.end():brace].strip():
        raise InputError("write the rule's template explicitly: CONSTRUCT { ?this ... } WHERE "
                         "{ ... }")
    end = _closing_brace(masked, brace)
    where = masked.find("{", end + 1)
    if where < 0:
        raise InputError("the rule has no WHERE clause")
    template = []
    for s, p, o in algebra.get("template") or ():
        if s != Variable(FOCUS):
            raise InputError(f"every statement a rule concludes must be about ?{FOCUS}; "
                             f"'{s} {p} {o}' is not")
        if not isinstance(p, URIRef) or str(p) in SYSTEM_PREDICATES:
            raise InputError(f"a rule concludes IRI properties other than the catalog's own "
                             f"version stamps; '{p}' is not one")
        if not isinstance(o, URIRef | Variable) and not hasattr(o, "datatype"):
            raise InputError(f"a rule's conclusions have IRI, literal or variable objects; "
                             f"'{o}' is not one")
        template.append((FOCUS, NamedNode(str(p)), _convert(o)))
    if not template:
        raise InputError(f"the rule's template is empty; conclude something about ?{FOCUS}")
    patterns = tuple(_patterns(algebra.get("p")))
    if not any(FOCUS in pattern for pattern in patterns):
        raise InputError(f"the rule's WHERE clause must match ?{FOCUS} in a triple pattern")
    select = f"{full[:found.start()]}SELECT *{full[end + 1:]}"
    select_values_at = where - (end + 1 - found.start()) + len("SELECT *") + 1
    required = tuple(dict.fromkeys(_required(algebra.get("p"))))
    return CompiledRule(full, where + 1, select, select_values_at, tuple(template), patterns,
                        required)


@dataclass(frozen=True)
class Rule:
    iri: NamedNode
    name: str
    description: str
    enabled: bool
    text: str
    compiled: CompiledRule | None = field(default=None, compare=False)
    error: str | None = None  # why a stored text no longer compiles (then it never runs)


def read_rules(store: QuadSource, base_iri: str) -> list[Rule]:
    """Every rule in the asserted graphs, compiled; a rule whose text no longer compiles is
    returned with its error and skipped by the engine."""
    rules = []
    for q in store.quads(None, _TYPE, RULE_CLASS):
        iri = q.subject
        if not isinstance(iri, NamedNode):
            continue
        values: dict[NamedNode, str] = {}
        for p in (NAME, DESCRIPTION, CONSTRUCT_TEXT, ENABLED):
            found = next(iter(store.quads(iri, p, None)), None)
            if found is not None:
                values[p] = found.object.value  # type: ignore[union-attr]
        text = values.get(CONSTRUCT_TEXT, "")
        compiled, error = None, None
        try:
            compiled = compile_rule(text, base_iri)
        except InputError as e:
            error = e.detail
        rules.append(Rule(iri, values.get(NAME, ""), values.get(DESCRIPTION, ""),
                          values.get(ENABLED, "true") not in ("false", "0"), text, compiled,
                          error))
    return sorted(rules, key=lambda r: r.iri.value)


def check_rule_texts(store: GraphStore, removed: set[Any], added: set[Any],
                     base_iri: str) -> None:
    """Refuse a change that leaves a rule without exactly one text that compiles, whichever
    interface wrote it (the rules API checks the same before it gets here)."""
    touched = {q.subject for q in added if q.predicate == CONSTRUCT_TEXT or (
        q.predicate == _TYPE and q.object == RULE_CLASS)}
    for subject in touched:
        after = {q for q in store.quads(subject, None, None) if q not in removed} | \
            {q for q in added if q.subject == subject}
        if not any(q.predicate == _TYPE and q.object == RULE_CLASS for q in after):
            continue
        texts = [str(getattr(q.object, "value", "")) for q in after if q.predicate == CONSTRUCT_TEXT]
        where = getattr(subject, "value", str(subject))
        if len(texts) != 1:
            raise InputError(f"the classification rule <{where}> needs exactly one "
                             f"semcat:construct text, not {len(texts)}; nothing was written")
        try:
            compile_rule(texts[0], base_iri)
        except InputError as e:
            raise type(e)(f"the classification rule <{where}> is refused: {e.detail}; "
                          "nothing was written") from e


def evaluate(store: GraphStore, dataset: Dataset, rule: CompiledRule, base_iri: str,
             subjects: Sequence[NamedNode] | None = None) -> set[Triple3]:
    """The rule's conclusions, about ``subjects`` only (in batches) or about every asset."""
    if subjects is not None:
        subjects = [s for s in subjects if rule.may_match(store, s)]
    batches: Iterable[Sequence[NamedNode] | None] = [None] if subjects is None else \
        (subjects[i:i + BATCH] for i in range(0, len(subjects), BATCH))
    out: set[Triple3] = set()
    for batch in batches:
        if batch is not None and not batch:
            continue
        result = store.query(rule.bound(batch), dataset=dataset, base_iri=base_iri)
        for t in result:  # type: ignore[attr-defined]
            s, p, o = t.subject, t.predicate, t.object
            if isinstance(s, NamedNode) and not isinstance(o, BlankNode):
                out.add((s, p, o))
    return out


def premises(store: GraphStore, dataset: Dataset, rule: CompiledRule, base_iri: str,
             statement: Triple3) -> list[Triple3] | None:
    """The facts one solution of the rule matched to conclude ``statement`` (its WHERE
    clause's triple patterns, instantiated; unbound OPTIONAL parts left out), or None when the
    rule does not conclude it now."""
    s, p, o = statement
    result = store.query(rule.bound([s], select=True), dataset=dataset, base_iri=base_iri)
    for row in result:  # type: ignore[attr-defined]
        binding = {FOCUS: s}
        for var in result.variables:  # type: ignore[attr-defined]
            value = row[var]
            if value is not None:
                binding[var.value] = value
        concluded = {(s, tp, binding.get(to, to) if isinstance(to, str) else to)
                     for _, tp, to in rule.template}
        if (s, p, o) not in concluded:
            continue
        facts: list[Triple3] = []
        for pattern in rule.patterns:
            terms = [binding.get(t) if isinstance(t, str) else t for t in pattern]
            if all(t is not None for t in terms) and isinstance(terms[1], NamedNode) \
                    and not isinstance(terms[0], Literal):
                fact = (terms[0], terms[1], terms[2])
                if fact not in facts:
                    facts.append(fact)
        return facts
    return None
