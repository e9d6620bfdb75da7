// The SPARQL editor: YASGUI against this server's /sparql, with the catalog's prefixes and the
// caller's key or token on every query, so results are what that caller may read. Results show
// as a table, a chart or a graph (./sparql-views.ts). Nothing is fetched from elsewhere: the LOV
// class/property autocompleters are off, tabs are not persisted.
import Yasgui from "@zazuko/yasgui";
import "@zazuko/yasgui/build/yasgui.min.css";
import { useEffect, useRef } from "preact/hooks";
import { authHeaders } from "./api";
import { ChartPlugin, GraphPlugin } from "./sparql-views";

Yasgui.Yasr.registerPlugin("chart", ChartPlugin as any);
Yasgui.Yasr.registerPlugin("graph", GraphPlugin as any);

export const PREFIXES: Record<string, string> = {
  semcat: "https://w3id.org/semcat#",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  rdfs: "http://www.w3.org/2000/01/rdf-schema#",
  owl: "http://www.w3.org/2002/07/owl#",
  xsd: "http://www.w3.org/2001/XMLSchema#",
  dcterms: "http://purl.org/dc/terms/",
  dcat: "http://www.w3.org/ns/dcat#",
  prov: "http://www.w3.org/ns/prov#",
  skos: "http://www.w3.org/2004/02/skos/core#",
  sh: "http://www.w3.org/ns/shacl#",
};

const HEAD = Object.entries(PREFIXES).filter(([p]) => ["semcat", "rdfs", "skos"].includes(p))
  .map(([p, iri]) => `PREFIX ${p}: <${iri}>`).join("\n");

export const EXAMPLES: [string, string][] = [
  ["Largest tables", `${HEAD}
SELECT ?table ?name (COUNT(?column) AS ?columns) WHERE {
  ?table a semcat:Table ; semcat:name ?name .
  ?column semcat:partOf ?table .
} GROUP BY ?table ?name ORDER BY DESC(?columns) LIMIT 10`],
  ["Columns by classification", `${HEAD}
SELECT ?classification (COUNT(?column) AS ?columns) WHERE {
  ?column a semcat:Column ; semcat:classification ?c .
  ?c semcat:name ?classification .
} GROUP BY ?classification ORDER BY DESC(?columns)`],
  ["Tables without owners", `${HEAD}
SELECT ?table ?name WHERE {
  ?table a semcat:Table ; semcat:name ?name .
  FILTER NOT EXISTS { ?table semcat:owner ?o }
} ORDER BY ?name LIMIT 50`],
  ["Lineage as a graph", `${HEAD}
CONSTRUCT { ?source semcat:derivesInto ?target . ?target semcat:name ?name }
WHERE {
  ?target semcat:derivedFrom ?source ; a semcat:Table ; semcat:name ?name .
  ?source a semcat:Table .
} LIMIT 60`],
  ["Search inside SPARQL", `${HEAD}
SELECT ?asset ?name ?score WHERE {
  SERVICE semcat:search { ?asset semcat:searchQuery "customer email" ;
    semcat:searchMode "hybrid" ; semcat:searchLimit 20 ; semcat:score ?score }
  ?asset semcat:name ?name .
} ORDER BY DESC(?score)`],
];

function label(root: HTMLElement, selector: string, text: string): void {
  root.querySelectorAll(selector).forEach((e) => e.hasAttribute("aria-label") || e.setAttribute("aria-label", text));
}

/** What YASGUI leaves out for screen readers, added as its parts are drawn: names for its
 * editor, endpoint box and page-size menu, and its "+" button taken out of the tab list
 * (a tablist may hold only tabs; the empty slot it was in stays, YASGUI inserts tabs before it),
 * and result views that cannot show these results marked disabled, not only greyed. */
function accessible(root: HTMLElement): void {
  const list = root.querySelector(".tabsList");
  const add = list?.querySelector<HTMLElement>("button.addTab");
  if (list && add) list.after(add);
  label(root, ".yasqe textarea", "SPARQL query");
  label(root, "input.autocomplete", "SPARQL endpoint");
  label(root, "select.tableSizer", "Results per page");
  root.querySelectorAll(".yasr_btnGroup .yasr_btn").forEach((b) => {
    const off = b.classList.contains("disabled") ? "true" : "false";
    if (b.getAttribute("aria-disabled") !== off) b.setAttribute("aria-disabled", off);
  });
}

export default function SparqlPage() {
  const box = useRef<HTMLDivElement>(null);
  const yasgui = useRef<Yasgui | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const y = new Yasgui(box.current, {
      requestConfig: { endpoint: location.origin + "/sparql", method: "POST", headers: () => authHeaders() },
      copyEndpointOnNewTab: true,
      persistenceId: null,
      populateFromUrl: false,
      endpointCatalogueOptions: { getData: () => [] } as any,
      yasqe: { value: EXAMPLES[0][1], autocompleters: ["variables"] } as any,
      yasr: { pluginOrder: ["table", "chart", "graph", "response"], persistenceId: null } as any,
    } as any);
    y.getTab()?.getYasqe()?.addPrefixes(PREFIXES);
    yasgui.current = y;
    const root = box.current;
    accessible(root);
    const watch = new MutationObserver(() => accessible(root));
    watch.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    return () => { watch.disconnect(); y.destroy?.(); root.innerHTML = ""; };
  }, []);
  function load(query: string) {
    const tab = yasgui.current?.getTab();
    tab?.setQuery(query);
  }
  return (
    <main class="sparql">
      <h1>SPARQL</h1>
      <p>Queries run against <code>/sparql</code> as you: you see only the graphs you may read.
        Run with the ▶ button or Ctrl+Enter.</p>
      <p class="examples"><span>Examples:</span>{EXAMPLES.map(([label, q]) => (
        <button type="button" class="link" onClick={() => load(q)}>{label}</button>))}</p>
      <div ref={box} class="yasgui-box" data-testid="yasgui" />
    </main>
  );
}
