// The SPARQL editor: YASGUI against this server's /sparql, with the catalog's prefixes and the
// caller's key on every query, so results are what that caller may read. Nothing is fetched
// from elsewhere: the LOV class/property autocompleters are off, tabs are not persisted.
import Yasgui from "@zazuko/yasgui";
import "@zazuko/yasgui/build/yasgui.min.css";
import { useEffect, useRef } from "preact/hooks";
import { authHeaders } from "./api";

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
  ["Search inside SPARQL", `${HEAD}
SELECT ?asset ?name ?score WHERE {
  SERVICE semcat:search { ?asset semcat:searchQuery "customer email" ;
    semcat:searchMode "hybrid" ; semcat:searchLimit 20 ; semcat:score ?score }
  ?asset semcat:name ?name .
} ORDER BY DESC(?score)`],
];

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
    } as any);
    y.getTab()?.getYasqe()?.addPrefixes(PREFIXES);
    yasgui.current = y;
    return () => { y.destroy?.(); box.current && (box.current.innerHTML = ""); };
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
