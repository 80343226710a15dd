/** The explorer page's styles: the slides' colours (values green, gradients red, tangents blue), light or dark as the viewer prefers. */
export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #57606a; --border: #d1d9e0; --panel: #f6f8fa;
  --value: #1a7f37; --grad: #cf222e; --tangent: #0969da; --hi: #9a6700; --hi-bg: #fff8c5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #9198a1; --border: #3d444d; --panel: #161b22;
    --value: #3fb950; --grad: #ff7b72; --tangent: #58a6ff; --hi: #e3b341; --hi-bg: #3d2e00;
  }
}
* { box-sizing: border-box; }
html, body { height: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; display: flex; flex-direction: column; }
header { padding: 10px 16px 4px; }
h1 { font: 600 17px/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; overflow-wrap: anywhere; }
h2 { font-size: 15px; margin: 0 0 6px; }
h3 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); font-weight: 600; }
code, .num, table.t { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { overflow-wrap: anywhere; }
#ag-app { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.ag-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; padding: 6px 16px; border-bottom: 1px solid var(--border); }
.ag-bar button, .ag-bar select { font: inherit; color: var(--fg); background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 3px 10px; min-width: 34px; cursor: pointer; }
.ag-bar button:disabled { opacity: .45; cursor: default; }
.ag-bar input[type=range] { width: 240px; accent-color: var(--hi); }
.ag-bar label { display: inline-flex; align-items: center; gap: 4px; }
.ag-counter { min-width: 190px; color: var(--muted); font-variant-numeric: tabular-nums; }
.ag-legend { margin-left: auto; display: flex; gap: 12px; color: var(--muted); }
.ag-legend .v { color: var(--value); } .ag-legend .g { color: var(--grad); } .ag-legend .t { color: var(--tangent); }
:focus-visible { outline: 3px solid var(--hi); outline-offset: 2px; }
main { flex: 1; min-height: 0; display: grid; grid-template-columns: minmax(0, 1fr) 400px; }
#ag-graph { overflow: auto; padding: 8px; min-height: 0; cursor: grab; }
#ag-graph.ag-dragging { cursor: grabbing; user-select: none; }
.ag-zoom { display: inline-flex; gap: 2px; }
#ag-app.ag-wide main { grid-template-columns: none; grid-template-rows: auto minmax(0, 1fr); }
#ag-app.ag-wide #ag-graph { max-height: 60vh; border-bottom: 1px solid var(--border); }
#ag-app.ag-wide aside { border-left: 0; display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
#ag-app.ag-wide aside section + section { margin-top: 0; padding-top: 0; border-top: 0; padding-left: 24px; border-left: 1px solid var(--border); }
aside { border-left: 1px solid var(--border); overflow: auto; padding: 10px 14px; background: var(--panel); }
aside section + section { margin-top: 14px; padding-top: 10px; border-top: 1px solid var(--border); }
.ag-notes { margin: 0; padding: 4px 16px; color: var(--muted); }
.muted { color: var(--muted); }
.eq { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 4px 8px; margin: 6px 0; }
.eq .op { padding-top: 2px; font-size: 16px; }
.eq .op { color: var(--muted); }
.eq figure { margin: 0; display: inline-flex; flex-direction: column; align-items: center; }
.eq figcaption { font-size: 11px; color: var(--muted); max-width: 10em; text-align: center; overflow-wrap: anywhere; }
.eq .num { font-size: 16px; }
.q-value { color: var(--value); } .q-grad { color: var(--grad); } .q-tangent { color: var(--tangent); } .q-local { color: var(--fg); }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 3px 10px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; min-width: 0; }
table.t { border-collapse: collapse; font-size: 12px; }
table.t td { border: 1px solid var(--border); padding: 1px 5px; text-align: right; }
.heat { display: inline-flex; flex-direction: column; gap: 2px; }
.heat canvas { image-rendering: pixelated; border: 1px solid var(--border); }
.heat span { font-size: 11px; color: var(--muted); }
.sum { margin: 8px 0 0; }
.sum .pending { color: var(--muted); }
/* the Graphviz picture, recoloured for the theme */
#ag-graph svg text { fill: var(--fg); white-space: pre; font-family: Helvetica, Arial, "Liberation Sans", "DejaVu Sans Condensed", sans-serif; }
#ag-graph svg text.ag-value { fill: var(--value); }
#ag-graph svg text.ag-flow { fill: var(--grad); }
#ag-graph.ag-forward svg text.ag-flow { fill: var(--tangent); }
#ag-graph svg text.ag-partial { font-style: italic; }
#ag-graph g.node > path, #ag-graph g.node > polygon, #ag-graph g.node > ellipse { stroke: var(--line); fill: var(--bg); }
#ag-graph g.node > ellipse { fill: var(--panel); }
#ag-graph g.edge path { stroke: var(--line); }
#ag-graph g.edge polygon { fill: var(--line); stroke: var(--line); }
#ag-graph g.node { cursor: pointer; }
#ag-graph g.node:focus { outline: none; }
#ag-graph g.node:focus-visible > path, #ag-graph g.node:focus-visible > polygon, #ag-graph g.node:focus-visible > ellipse { stroke: var(--hi); stroke-width: 3; stroke-dasharray: 4 2; }
#ag-graph g.ag-pending { opacity: .35; }
#ag-graph .ag-hidden { visibility: hidden; }
#ag-graph g.node.ag-current > path, #ag-graph g.node.ag-current > polygon, #ag-graph g.node.ag-current > ellipse { stroke: var(--hi); stroke-width: 3; fill: var(--hi-bg); }
#ag-graph g.node.ag-selected > path, #ag-graph g.node.ag-selected > polygon, #ag-graph g.node.ag-selected > ellipse { stroke-width: 2.5; }
#ag-graph g.node.ag-current text:not(.ag-value):not(.ag-flow) { fill: var(--hi); font-weight: bold; }
#ag-graph g.edge.ag-current path { stroke: var(--hi); stroke-width: 3.5; }
#ag-graph g.edge.ag-current polygon { fill: var(--hi); stroke: var(--hi); }
#ag-graph g.edge.ag-current text { font-weight: bold; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } aside { border-left: 0; border-top: 1px solid var(--border); } }
`;
