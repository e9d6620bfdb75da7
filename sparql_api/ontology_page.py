"""The ontology as an HTML document: one anchored section per class and property.

Custom terms are anchored by their local name, so a custom term's IRI
(``{base}/ontology#Name``) opens its own section; shipped terms by their CURIE.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ontology.namespaces import PREFIXES

_STYLE = """body{font-family:system-ui;max-width:64rem;margin:2rem auto;line-height:1.45}
section{border-top:1px solid #ddd;padding:.4rem 0}h3{margin:.3rem 0}code{color:#555}
.badge{font-size:.75rem;padding:0 .4rem;border-radius:.6rem;margin-left:.4rem}
.custom{background:#e3f0ff}.deprecated{background:#ffe3e3}.dep h3 span.name{text-decoration:line-through}
dt{font-weight:600;float:left;clear:left;width:9rem}dd{margin-left:9.5rem}nav{columns:3}"""


class _Names:
    """Short names, anchors and links for IRIs, given the custom namespace."""

    def __init__(self, namespace: str, known: set[str]) -> None:
        self.namespace = namespace
        self.known = known

    def curie(self, iri: str) -> str:
        if iri.startswith(self.namespace):
            return "local:" + iri[len(self.namespace):]
        for prefix, ns in PREFIXES.items():
            if iri.startswith(ns) and iri != ns:
                return f"{prefix}:{iri[len(ns):]}"
        return iri

    def anchor(self, iri: str) -> str:
        return iri[len(self.namespace):] if iri.startswith(self.namespace) else self.curie(iri)

    def link(self, iri: str) -> str:
        text = escape(self.curie(iri))
        if iri in self.known:
            return f'<a href="#{escape(self.anchor(iri), quote=True)}">{text}</a>'
        return f'<a href="{escape(iri, quote=True)}">{text}</a>' if "://" in iri else text

    def links(self, iris: list[str]) -> str:
        return ", ".join(self.link(i) for i in iris)


def _section(term: dict[str, Any], names: _Names, extra: list[tuple[str, str]]) -> str:
    badges = ""
    if term["custom"]:
        badges += '<span class="badge custom">custom</span>'
    if term["deprecated"]:
        badges += '<span class="badge deprecated">deprecated</span>'
    rows = [("IRI", f"<code>{escape(term['iri'])}</code>")]
    if term["deprecated"] and term["replacedBy"]:
        rows.append(("Replaced by", names.link(term["replacedBy"])))
    rows += [(k, v) for k, v in extra if v]
    body = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows)
    comment = f"<p>{escape(term['comment'])}</p>" if term["comment"] else ""
    css = ' class="dep"' if term["deprecated"] else ""
    label = escape(term["label"] or names.curie(term["iri"]))
    return (f'<section id="{escape(names.anchor(term["iri"]), quote=True)}"{css}>'
            f'<h3><span class="name">{label}</span> <code>{escape(names.curie(term["iri"]))}'
            f"</code>{badges}</h3>{comment}<dl>{body}</dl></section>")


def render(summary: dict[str, Any]) -> str:
    """``summary`` is ``OntologySummary.to_json()``."""
    classes, properties = summary["classes"], summary["properties"]
    names = _Names(summary["namespace"], {t["iri"] for t in classes + properties})
    by_domain: dict[str, list[str]] = {}
    for p in properties:
        for d in p["domain"]:
            by_domain.setdefault(d, []).append(p["iri"])
    class_sections = "".join(_section(c, names, [
        ("Subclass of", names.links(c["parents"])),
        ("Subclasses", names.links(c["children"])),
        ("Disjoint with", names.links(c["disjointWith"])),
        ("Properties", names.links(by_domain.get(c["iri"], []))),
    ]) for c in classes)
    property_sections = "".join(_section(p, names, [
        ("Kind", escape(p["kind"])),
        ("Domain", names.links(p["domain"])),
        ("Range", names.links(p["range"])),
        ("Subproperty of", names.links(p["parents"])),
        ("Subproperties", names.links(p["children"])),
    ]) for p in properties)

    def toc(terms: list[dict[str, Any]]) -> str:
        return "".join(f"<li>{names.link(t['iri'])}</li>" for t in terms)

    n_custom = sum(t["custom"] for t in classes + properties)
    n_deprecated = sum(t["deprecated"] for t in classes + properties)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>semcat ontology {escape(summary["version"])}</title><style>{_STYLE}</style></head><body>
<h1>The catalog's ontology</h1>
<p>The <a href="{escape(summary["imports"], quote=True)}">semcat ontology</a> (OWL 2, aligned to
DCAT 3, PROV-O, SKOS, DCTERMS, ORG/FOAF), extended by this catalog at
<code>{escape(summary["iri"])}</code>. Version <strong>{escape(summary["version"])}</strong>
(revision {summary["revision"]}): {len(classes)} classes, {len(properties)} properties,
{n_custom} custom, {n_deprecated} deprecated.</p>
<p>Also as <a href="?format=ttl">Turtle</a> · <a href="?format=jsonld">JSON-LD</a> ·
<a href="/api/v1/ontology">JSON summary</a> · <a href="/api/v1/ontology/history">history</a>.
Edit it with <code>POST /api/v1/ontology/classes</code>, <code>/properties</code> and
<code>/deprecations</code>; every edit is checked by a DL reasoner.</p>
<h2>Classes</h2><nav><ul>{toc(classes)}</ul></nav>
<h2>Properties</h2><nav><ul>{toc(properties)}</ul></nav>
<h2>Classes in detail</h2>{class_sections}
<h2>Properties in detail</h2>{property_sections}
</body></html>"""
