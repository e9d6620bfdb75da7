// Lineage: a cytoscape.js graph laid out by ELK (layered, left to right) so hundreds of nodes
// stay readable; a node's neighbours are fetched when it is expanded, not all up front.
import cytoscape from "cytoscape";
// @ts-ignore: the package ships no types
import elk from "cytoscape-elk";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get } from "./api";
import { assetHref, navigate, useLocation } from "./router";

cytoscape.use(elk);

interface Node { id: string; type: string | null; name: string | null; distance: number; direction: string; owners?: string[] }
interface Edge { source: string; target: string; via: string }
interface Graph { nodes: Node[]; edges: Edge[]; partial: boolean; total: number; notify?: { owner: string }[] }

const STYLE: any[] = [
  { selector: "node", style: { label: "data(label)", "font-size": 11, "text-valign": "center", "text-halign": "center",
    "text-wrap": "ellipsis", "text-max-width": 150, width: 160, height: 32, shape: "round-rectangle",
    "background-color": "#e8eef7", "border-width": 1, "border-color": "#5b6b82", color: "#111" } },
  { selector: "node[kind = 'Pipeline'], node[kind = 'Job']", style: { shape: "hexagon", "background-color": "#fdf1d8" } },
  { selector: "node[kind = 'Dashboard'], node[kind = 'Chart']", style: { "background-color": "#e4f4e4" } },
  { selector: "node[kind = 'Column']", style: { width: 140, height: 24, "font-size": 10, "background-color": "#f3f3f3" } },
  { selector: "node.focus", style: { "border-width": 3, "border-color": "#1d4ed8", "background-color": "#dbe7ff" } },
  { selector: "node.expanded", style: { "border-style": "double", "border-width": 3 } },
  { selector: "node:selected", style: { "border-color": "#b45309", "border-width": 3 } },
  { selector: "edge", style: { width: 1.2, "line-color": "#8a96a8", "target-arrow-color": "#8a96a8",
    "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.8 } },
];

// a column alone says little in a graph of many tables: "table.column"
function label(n: Node): string {
  if (n.type !== "Column") return n.name ?? n.id;
  return (n.id.split("/").pop() ?? n.id).split(".").slice(-2).join(".");
}

export default function LineagePage() {
  const loc = useLocation();
  const asset = loc.params.get("asset") ?? "";
  const level = loc.params.get("level") ?? "table";
  const view = loc.params.get("view") ?? "lineage";
  const direction = loc.params.get("direction") ?? "both";
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<cytoscape.Core | null>(null);
  const [selected, setSelected] = useState<Node | null>(null);
  const [info, setInfo] = useState("");
  const [error, setError] = useState("");
  const [text, setText] = useState(asset);
  const [notify, setNotify] = useState<string[]>([]);
  const nodes = useRef(new Map<string, Node>());

  function set(change: Record<string, string>) {
    const p = new URLSearchParams(loc.params);
    for (const [k, v] of Object.entries(change)) p.set(k, v);
    navigate("/ui/lineage?" + p.toString());
  }

  function add(g: Graph) {
    const c = cy.current!;
    c.batch(() => {
      for (const n of g.nodes) {
        if (!nodes.current.has(n.id)) nodes.current.set(n.id, n);
        if (c.getElementById(n.id).empty()) c.add({ group: "nodes", data: { id: n.id, label: label(n), kind: n.type } });
      }
      for (const e of g.edges) {
        const id = `${e.source}->${e.target}`;
        if (c.getElementById(id).empty() && !c.getElementById(e.source).empty() && !c.getElementById(e.target).empty())
          c.add({ group: "edges", data: { id, source: e.source, target: e.target, via: e.via } });
      }
    });
    c.layout({ name: "elk", elk: { algorithm: "layered", "elk.direction": "RIGHT", "elk.layered.spacing.nodeNodeBetweenLayers": 60,
      "elk.spacing.nodeNode": 14 }, fit: true, padding: 20, animate: false } as any).run();
    setInfo(`${c.nodes().length} nodes, ${c.edges().length} edges${g.partial ? " (partial: bound reached)" : ""}`);
  }

  async function expand(id: string, dir = "both") {
    try {
      add(await get<Graph>("/api/v1/lineage", { asset: id, direction: dir, depth: 1, level }));
      cy.current!.getElementById(id).addClass("expanded");
    } catch (e) { setError(e instanceof ApiError ? e.message : String(e)); }
  }

  useEffect(() => {
    if (!box.current) return;
    const c = cytoscape({ container: box.current, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3 });
    cy.current = c;
    c.on("tap", "node", (e) => setSelected(nodes.current.get(e.target.id()) ?? null));
    c.on("dbltap", "node", (e) => expand(e.target.id()));
    return () => c.destroy();
  }, []);

  useEffect(() => {
    const c = cy.current;
    setText(asset);
    if (!c || !asset) return;
    c.elements().remove();
    nodes.current.clear();
    setSelected(null); setError(""); setNotify([]);
    const load = view === "impact"
      ? get<Graph>("/api/v1/lineage/impact", { asset, depth: 10 })
      : get<Graph>("/api/v1/lineage", { asset, direction, depth: Number(loc.params.get("depth") ?? 1), level });
    load.then((g) => {
      add(g);
      c.getElementById(asset).addClass("focus expanded");
      if (g.notify) setNotify(g.notify.map((n) => n.owner));
    }).catch((e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [asset, level, view, direction, loc.params.get("depth")]);

  return (
    <main class="lineage">
      <h1>Lineage</h1>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); set({ asset: text.trim() }); }}>
        <label for="lineage-asset">Asset id</label>
        <input id="lineage-asset" size={50} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">Show</button>
        <label for="lineage-level">Level</label>
        <select id="lineage-level" value={level} onChange={(e) => set({ level: (e.target as HTMLSelectElement).value })}>
          <option value="table">table</option><option value="column">column</option>
        </select>
        <label for="lineage-view">View</label>
        <select id="lineage-view" value={view} onChange={(e) => set({ view: (e.target as HTMLSelectElement).value })}>
          <option value="lineage">upstream and downstream</option><option value="impact">impact (everything downstream)</option>
        </select>
        <button type="button" onClick={() => cy.current?.fit(undefined, 20)}>Fit</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="muted small" data-testid="lineage-info">{info} — click a node to select it, double-click or use the buttons to expand it.</p>
      <div class="lineage-layout">
        <div ref={box} class="graph" role="img" aria-label={`Lineage graph around ${asset}; the list beside it has the same nodes`} />
        <aside class="node-panel" aria-label="Selected node">
          {selected ? (
            <div data-testid="selected">
              <h2>{selected.name ?? selected.id}</h2>
              <p class="muted small">{selected.type}{selected.direction === "self" ? "" : ` · ${selected.direction}`}</p>
              <p><a href={assetHref(selected.id)}>Open asset</a></p>
              <p><button onClick={() => expand(selected.id, "upstream")}>Expand upstream</button>{" "}
                <button onClick={() => expand(selected.id, "downstream")}>Expand downstream</button></p>
              <p><button class="link" onClick={() => set({ asset: selected.id })}>Center on this node</button></p>
            </div>
          ) : <p class="muted">No node selected.</p>}
          {notify.length > 0 && <><h2>Owners to notify</h2><ul>{notify.map((o) => <li>{o}</li>)}</ul></>}
          <h2>Nodes</h2>
          <ul class="node-list" data-testid="node-list">
            {[...nodes.current.values()].slice(0, 300).map((n) => (
              <li><button class="link" data-node={n.id} onClick={() => { setSelected(n); cy.current?.getElementById(n.id).select(); }}>
                {label(n)}</button> <span class="muted small">{n.type}</span></li>
            ))}
          </ul>
        </aside>
      </div>
    </main>
  );
}
