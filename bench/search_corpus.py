"""Synthetic search documents at scale (100k to 1M assets) and a realistic query mix, for
bench/search_latency.py.

Going through the catalog (RDF, SHACL, change log) would make a million assets a matter of
hours, and what is measured is the search path, so assets are built directly as the
``AssetDoc`` values the catalog hands to the indexes. The vocabulary is bench/synthetic.py's
(domains, layers, entities, column templates, tags, teams and people), spread over five
platforms and two workspaces: tables and views with ten documented columns each (columns are
~90% of assets, as in real catalogs), owners, tags, glossary terms and PII classifications.

Each asset also gets a *template* id: assets whose embedding texts differ only in details
(the domain, a name's suffix number) share one. bench/search_latency.py embeds one real text
per template with MiniLM and gives every asset its template's vector plus a little noise.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.synthetic import COLUMNS, DOMAINS, ENTITIES, LAYERS, PREFIX, SUFFIXES, TAGS, TEAMS, USERS
from search.documents import AssetDoc, Column, Ref

SEED = 20260501
BASE = "http://127.0.0.1:8000"
PLATFORMS = (("snowflake", "Snowflake"), ("bigquery", "BigQuery"), ("postgres", "PostgreSQL"),
             ("redshift", "Amazon Redshift"), ("databricks", "Databricks"))
WORKSPACES = (("acme", "Acme Outfitters"), ("acme-eu", "Acme Europe"))
TERMS = (("customer", "Customer"), ("revenue", "Revenue"), ("order", "Order"),
         ("churn", "Churn"), ("active-user", "Active user"), ("gross-margin", "Gross margin"),
         ("lifetime-value", "Customer lifetime value"), ("inventory", "Inventory"))
TERM_OF = {"customer": "customer", "order": "order", "order_item": "order",
           "payment": "revenue", "invoice": "revenue", "subscription": "churn",
           "session": "active-user", "page_view": "active-user", "price": "gross-margin",
           "stock_level": "inventory", "warehouse": "inventory", "account": "customer"}
_FIELDS = {f.name for f in dataclasses.fields(AssetDoc)}


@dataclass
class Corpus:
    """What the benchmark keeps of the generated assets (the documents themselves stream)."""

    keys: list[str] = field(default_factory=list)
    template_of: list[int] = field(default_factory=list)  # asset -> template id
    hashes: list[str] = field(default_factory=list)
    templates: dict[tuple[str, ...], int] = field(default_factory=dict)
    template_texts: list[str] = field(default_factory=list)
    tables: list[tuple[str, str]] = field(default_factory=list)  # (name, qualified name)

    def template(self, key: tuple[str, ...], text: str) -> int:
        tid = self.templates.get(key)
        if tid is None:
            tid = self.templates[key] = len(self.template_texts)
            self.template_texts.append(text)
        return tid


def _doc(**kwargs: object) -> AssetDoc:
    return AssetDoc(**{k: v for k, v in kwargs.items() if k in _FIELDS})  # type: ignore[arg-type]


def documents(n: int, corpus: Corpus, seed: int = SEED) -> Iterator[AssetDoc]:
    """About ``n`` assets: tables/views, each followed by its ten columns."""
    rng = random.Random(seed)
    users = [Ref(f"user/{u}", name) for u, name, _ in USERS]
    teams = [Ref(f"team/{t}", t.replace("-", " ").title()) for t in TEAMS]
    tags = [Ref(f"tag/{slug}", name) for slug, name, _ in TAGS]
    terms = {slug: Ref(f"glossary/business/{slug}", label) for slug, label in TERMS}
    pii = {c: Ref(f"classification/pii/{c}", c.title()) for c in ("email", "phone")}
    seen: set[str] = set()
    made = 0
    while made < n:
        platform, plabel = PLATFORMS[rng.randrange(len(PLATFORMS))]
        ws, wlabel = WORKSPACES[0] if rng.random() < 0.8 else WORKSPACES[1]
        layer_i = rng.randrange(len(LAYERS))
        layer, about = LAYERS[layer_i]
        domain, entity = rng.choice(DOMAINS), rng.choice(ENTITIES)
        prefix, suffix = rng.choice(PREFIX[layer]), rng.choice(list(SUFFIXES))
        name = f"{prefix}_{entity}s{suffix}"
        qn = f"analytics.{domain}_{layer}.{name}"
        kind = "View" if rng.random() < 0.15 else "Table"
        while f"{ws}/{platform}/{qn}" in seen:  # columns' keys do not say table or view
            name = f"{prefix}_{entity}s{suffix}_{rng.randrange(1000)}"
            qn = f"analytics.{domain}_{layer}.{name}"
        seen.add(f"{ws}/{platform}/{qn}")
        key = f"{ws}/{kind.lower()}/{platform}/{qn}"
        cols = [*COLUMNS[:2], *rng.sample(COLUMNS[2:], 8)]
        ewords = entity.replace("_", " ")
        columns = tuple(Column(c.format(e=entity), d.format(e=ewords)) for c, _, d, _ in cols)
        owner_user, owner_team = rng.choice(users), rng.choice(teams)
        chosen = rng.sample(tags[:4], rng.choice((0, 1, 1, 2)))
        has_pii = any(c[3] for c in cols)
        if has_pii:
            chosen.append(tags[4])
        term = TERM_OF.get(entity)
        restricted = has_pii and rng.random() < 0.5
        graphs = (f"{BASE}/graph/{ws}/{'restricted' if restricted else 'general'}",)
        day = f"2026-{rng.randrange(1, 11):02d}-{rng.randrange(1, 28):02d}"
        common = dict(platform=Ref(f"platform/{platform}", plabel), workspace=Ref(ws, wlabel),
                      domains=(Ref(f"domain/{domain}", domain.title()),), graphs=graphs,
                      updated_at=f"{day}T{rng.randrange(24):02d}:00:00Z",
                      created_at=f"2025-{rng.randrange(1, 13):02d}-01T00:00:00Z")
        table = _doc(key=key, types=(kind,), name=name, qualified_name=qn,
                     description=f"{ewords.capitalize()} records of the {domain} domain, "
                                 f"{layer} layer{SUFFIXES[suffix]}. {about}",
                     columns=columns, owners=(owner_team, owner_user), tags=tuple(chosen),
                     terms=(terms[term],) if term else (), **common)
        text = table.embedding_text()
        corpus.keys.append(key)
        corpus.hashes.append(table.embedding_hash())
        corpus.template_of.append(corpus.template(("t", kind, prefix, entity, suffix), text))
        corpus.tables.append((name, qn))
        yield table
        made += 1
        for c, ctype, d, cpii in cols:
            cname = c.format(e=entity)
            ckey = f"{ws}/column/{platform}/{qn}.{cname}"
            column = _doc(key=ckey, types=("Column",), name=cname, qualified_name=f"{qn}.{cname}",
                          description=d.format(e=ewords), parent=Ref(key, name),
                          data_type=ctype, owners=(owner_team,),
                          classifications=(pii[cpii],) if cpii else (), **common)
            corpus.keys.append(ckey)
            corpus.hashes.append(column.embedding_hash())
            corpus.template_of.append(corpus.template(("c", c, entity, layer),
                                                      column.embedding_text()))
            yield column
            made += 1


_PARAPHRASES = (
    "where do we store {e} {c}", "tables about {d} {e}s", "which data has {c} of {e}s",
    "{e} {c} {period}", "how many {e}s per {c}", "{d} {e} history", "daily {e} totals",
    "all {e}s in the {layer} layer", "who owns the {e} tables", "{e}s with personal data",
    "certified {d} {e} tables", "tier 1 {e} data", "{e} {c} in {platform}",
)
_PERIODS = ("by day", "by month", "per week", "last month", "monthly")
_SIMPLE_COLUMNS = ("email", "phone number", "currency", "amount", "status", "country",
                   "quantity", "created date", "notes", "source system")


def queries(corpus: Corpus, n: int, seed: int = SEED) -> list[str]:
    """``n`` distinct queries, mixed as people type them: entity words, identifiers and
    qualified names (some exact), words with a typo or cut short, and paraphrases."""
    rng = random.Random(seed + 1)
    out: dict[str, None] = {}
    while len(out) < n:
        e = rng.choice(ENTITIES).replace("_", " ")
        c = rng.choice(_SIMPLE_COLUMNS)
        roll = rng.random()
        if roll < 0.2:
            q = f"{e} {c}" if rng.random() < 0.5 else f"{e}s"
        elif roll < 0.35:
            q = rng.choice(corpus.tables)[0]
        elif roll < 0.45:
            q = rng.choice(corpus.tables)[1]
        elif roll < 0.55:
            word = rng.choice(ENTITIES).split("_")[0]
            i = rng.randrange(1, len(word))
            q = (word[:i] + word[i + 1:] if rng.random() < 0.5 else word[:max(3, i + 1)]) + \
                f" {c}"
        else:
            q = rng.choice(_PARAPHRASES).format(
                e=e, c=c, d=rng.choice(DOMAINS), period=rng.choice(_PERIODS),
                layer=rng.choice(LAYERS)[0], platform=rng.choice(PLATFORMS)[1])
        out[q] = None
    return list(out)


def facet_filters(n: int, seed: int = SEED) -> list[dict[str, tuple[str, ...]]]:
    """Filters for the faceted queries: none for most, a platform, tag or type for some."""
    rng = random.Random(seed + 2)
    out: list[dict[str, tuple[str, ...]]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.15:
            out.append({"platform": (f"platform/{rng.choice(PLATFORMS)[0]}",)})
        elif roll < 0.3:
            out.append({"tag": (f"tag/{rng.choice(TAGS)[0]}",)})
        elif roll < 0.4:
            out.append({"type": ("Table", "View")})
        else:
            out.append({})
    return out
