// Two YASR result views beside YASGUI's table: a chart (chart.js) for a label column with numeric
// columns, and a graph (cytoscape) for CONSTRUCT/DESCRIBE results and ?s ?p ?o-shaped SELECTs.
// Both libraries load on first use, from this server: nothing is fetched elsewhere, nothing
// needs eval, so the page's CSP holds.

export interface Term { type: string; value: string; datatype?: string; "xml:lang"?: string }
type Row = Record<string, Term | undefined>;
interface Quad { subject: { termType: string; value: string }; predicate: { termType: string; value: string };
  object: { termType: string; value: string } }
interface Results {
  getType(): string;
  getVariables(): string[];
  getBindings(): Row[];
  getStatements(): Quad[];
}
export interface YasrLike {
  results?: Results;
  resultsEl: HTMLElement;
  getPrefixes(): Record<string, string>;
}

const XSD = "http://www.w3.org/2001/XMLSchema#";
const NUMERIC = new Set(["integer", "decimal", "double", "float", "long", "int", "short", "byte",
  "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
  "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte"].map((t) => XSD + t));
const TEMPORAL = new Set(["date", "dateTime", "gYear", "gYearMonth"].map((t) => XSD + t));
export const MAX_POINTS = 200;
export const MAX_TRIPLES = 500;

function isNumber(t: Term | undefined): boolean {
  if (!t || t.type === "uri" || t.type === "bnode") return false;
  if (t.datatype) return NUMERIC.has(t.datatype) && Number.isFinite(Number(t.value));
  return t.value.trim() !== "" && Number.isFinite(Number(t.value));
}

/** Short, readable name of an IRI: a prefixed name when a prefix fits, else its last segment. */
export function shorten(iri: string, prefixes: Record<string, string>): string {
  for (const [p, ns] of Object.entries(prefixes)) if (iri.startsWith(ns) && iri.length > ns.length) return `${p}:${iri.slice(ns.length)}`;
  const tail = iri.replace(/[/#]+$/, "").split(/[/#]/).pop();
  return tail || iri;
}

export type ChartKind = "bar" | "line" | "pie";
export interface ChartShape { label: string | null; series: string[]; kind: ChartKind; rows: Row[] }

/** Which columns to plot and how, or null when the results are not a label + numbers table. */
export function chartShape(vars: string[], rows: Row[]): ChartShape | null {
  if (!rows.length || !vars.length) return null;
  const sample = rows.slice(0, MAX_POINTS);
  const series = vars.filter((v) => sample.every((r) => isNumber(r[v])));
  if (!series.length) return null;
  const others = vars.filter((v) => !series.includes(v));
  const label = others.find((v) => sample.every((r) => r[v]?.type !== "uri")) ?? others[0] ?? null;
  const temporal = label !== null && sample.every((r) => TEMPORAL.has(r[label]?.datatype ?? ""));
  const kind: ChartKind = temporal ? "line"
    : series.length === 1 && sample.length <= 10 && sample.every((r) => Number(r[series[0]]!.value) >= 0) ? "pie"
    : "bar";
  return { label, series, kind, rows: sample };
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function icon(text: string): Element {
  return el("span", { "aria-hidden": "true" }, text);
}

export class ChartPlugin {
  priority = 1; // never chosen over the table by itself
  label = "Chart";
  private chosen: ChartKind | null = null;
  private chart: { destroy(): void } | null = null;
  constructor(private yasr: YasrLike) {}

  private shape(): ChartShape | null {
    const r = this.yasr.results;
    if (!r || r.getType() !== "json") return null;
    return chartShape(r.getVariables(), r.getBindings());
  }

  canHandleResults(): boolean {
    return this.shape() !== null;
  }

  getIcon(): Element {
    return icon("▮");
  }

  async draw(): Promise<void> {
    const shape = this.shape();
    if (!shape) return;
    const box = el("div", { class: "sparql-chart", "data-testid": "sparql-chart" });
    const picker = el("label", {}, "Chart type ");
    const select = el("select");
    for (const k of ["bar", "line", "pie"] as const) select.append(el("option", { value: k }, k));
    select.value = this.chosen ?? shape.kind;
    picker.append(select);
    const what = `${shape.series.join(", ")} by ${shape.label ?? "row"}`;
    const canvas = el("canvas", { role: "img", "aria-label": `${select.value} chart of ${what}` });
    const frame = el("div", { class: "chart-frame" });
    frame.append(canvas);
    const note = el("p", { class: "muted small" },
      `${shape.rows.length} rows of ${what}` + (shape.rows.length === MAX_POINTS ? ` (the first ${MAX_POINTS})` : ""));
    box.append(picker, frame, note);
    this.yasr.resultsEl.append(box);
    const { drawChart } = await import("./chart-view");
    const render = () => {
      this.chart?.destroy();
      const kind = select.value as ChartKind;
      canvas.setAttribute("aria-label", `${kind} chart of ${what}`);
      this.chart = drawChart(canvas, { ...shape, kind }, (t) => this.text(t));
      box.dataset.chartType = kind;
      box.dataset.points = String(shape.rows.length * shape.series.length);
    };
    select.addEventListener("change", () => { this.chosen = select.value as ChartKind; render(); });
    render();
  }

  private text(t: Term | undefined): string {
    if (!t) return "";
    return t.type === "uri" ? shorten(t.value, this.yasr.getPrefixes()) : t.value;
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}

export interface GraphData { nodes: { id: string; label: string; literal: boolean }[]; edges: { source: string; target: string; label: string }[]; truncated: boolean }

/** Nodes and edges of triples; every literal is its own node, so equal values do not merge. */
export function graphOf(triples: [Term, Term, Term][], prefixes: Record<string, string>): GraphData {
  const nodes = new Map<string, GraphData["nodes"][number]>();
  const edges: GraphData["edges"] = [];
  const node = (t: Term, i: number): string => {
    const literal = t.type !== "uri" && t.type !== "bnode";
    const id = literal ? `lit:${i}` : t.type === "bnode" ? `_:${t.value}` : t.value;
    if (!nodes.has(id)) {
      const label = literal ? (t.value.length > 40 ? t.value.slice(0, 39) + "…" : t.value)
        : t.type === "bnode" ? "_:" + t.value : shorten(t.value, prefixes);
      nodes.set(id, { id, label, literal });
    }
    return id;
  };
  triples.slice(0, MAX_TRIPLES).forEach(([s, p, o], i) => {
    edges.push({ source: node(s, i), target: node(o, i), label: shorten(p.value, prefixes) });
  });
  return { nodes: [...nodes.values()], edges, truncated: triples.length > MAX_TRIPLES };
}

const quadTerm = (t: { termType: string; value: string }): Term =>
  ({ type: t.termType === "NamedNode" ? "uri" : t.termType === "BlankNode" ? "bnode" : "literal", value: t.value });

export class GraphPlugin {
  priority = 1;
  label = "Graph";
  private cy: { destroy(): void } | null = null;
  constructor(private yasr: YasrLike) {}

  private triples(): [Term, Term, Term][] | null {
    const r = this.yasr.results;
    if (!r) return null;
    if (r.getType() === "json") {
      const vars = r.getVariables();
      const rows = r.getBindings();
      if (vars.length !== 3 || !rows.length) return null;
      const [s, p, o] = vars;
      const ok = rows.every((b) => b[s] && b[p]?.type === "uri" && b[o] && b[s]!.type !== "literal" && b[s]!.type !== "typed-literal");
      return ok ? rows.map((b) => [b[s]!, b[p]!, b[o]!]) : null;
    }
    try {
      const quads = r.getStatements();
      return quads.length ? quads.map((q) => [quadTerm(q.subject), quadTerm(q.predicate), quadTerm(q.object)]) : null;
    } catch {
      return null; // not RDF
    }
  }

  canHandleResults(): boolean {
    return this.triples() !== null;
  }

  getIcon(): Element {
    return icon("◉");
  }

  async draw(): Promise<void> {
    const triples = this.triples();
    if (!triples) return;
    const data = graphOf(triples, this.yasr.getPrefixes());
    const summary = `${data.nodes.length} nodes, ${data.edges.length} edges` +
      (data.truncated ? ` (the first ${MAX_TRIPLES} of ${triples.length} triples)` : "");
    const box = el("div", { class: "sparql-graph", "data-testid": "sparql-graph" });
    const canvas = el("div", { class: "graph-canvas", role: "img", "aria-label": `Graph of the results: ${summary}` });
    box.append(canvas, el("p", { class: "muted small" }, summary));
    this.yasr.resultsEl.append(box);
    const { default: cytoscape } = await import("cytoscape");
    const cy = cytoscape({
      container: canvas,
      elements: [
        ...data.nodes.map((n) => ({ data: { id: n.id, label: n.label }, classes: n.literal ? "literal" : "" })),
        ...data.edges.map((e, i) => ({ data: { id: `e${i}`, ...e } })),
      ],
      style: [
        { selector: "node", style: { label: "data(label)", "font-size": 10, color: "#1a1a1a", "background-color": "#6b8fd6",
          "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18 } },
        { selector: "node.literal", style: { shape: "round-rectangle", "background-color": "#e0c27a" } },
        { selector: "edge", style: { width: 1, label: "data(label)", "font-size": 8, color: "#444", "line-color": "#8a96a8",
          "target-arrow-color": "#8a96a8", "target-arrow-shape": "triangle", "curve-style": "bezier", "text-rotation": "autorotate" } },
      ],
      layout: { name: data.nodes.length > 150 ? "grid" : "cose", animate: false },
      wheelSensitivity: 0.3,
    });
    this.cy = cy;
    box.dataset.nodes = String(cy.nodes().length);
    box.dataset.edges = String(cy.edges().length);
  }

  destroy(): void {
    this.cy?.destroy();
    this.cy = null;
  }
}
