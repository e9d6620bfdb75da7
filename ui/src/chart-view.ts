// chart.js, only the parts the SPARQL chart view uses, in a chunk of its own loaded on first use.
import {
  ArcElement, BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController,
  LineElement, PieController, PointElement, Tooltip,
} from "chart.js";
import type { ChartShape, Term } from "./sparql-views";

Chart.register(ArcElement, BarController, BarElement, CategoryScale, Legend, LinearScale,
  LineController, LineElement, PieController, PointElement, Tooltip);

// distinguishable and at least 3:1 against white (WCAG non-text contrast)
const COLOURS = ["#1d4ed8", "#b45309", "#047857", "#b91c1c", "#6d28d9", "#0e7490", "#a21caf", "#4d7c0f", "#c2410c", "#475569"];

export function drawChart(canvas: HTMLCanvasElement, shape: ChartShape, text: (t: Term | undefined) => string): Chart {
  const labels = shape.rows.map((r, i) => (shape.label ? text(r[shape.label]) : String(i + 1)));
  const pie = shape.kind === "pie";
  return new Chart(canvas, {
    type: shape.kind,
    data: {
      labels,
      datasets: shape.series.map((s, i) => ({
        label: s,
        data: shape.rows.map((r) => Number(r[s]!.value)),
        backgroundColor: pie ? labels.map((_, j) => COLOURS[j % COLOURS.length]) : COLOURS[i % COLOURS.length],
        borderColor: pie ? "#fff" : COLOURS[i % COLOURS.length],
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: pie || shape.series.length > 1 } },
    },
  });
}
