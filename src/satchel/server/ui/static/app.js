// Satchel UI: the little JavaScript the server-rendered pages need. No inline scripts (the
// pages' CSP forbids them); page data arrives as JSON in #page-data; user text is only ever
// put in the page with textContent, except preview fragments, which the server escaped.
"use strict";

const PAGE = JSON.parse(document.getElementById("page-data").textContent || "{}");
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function flash(message, bad) {
  const el = $("#flash");
  if (!el) return;
  el.textContent = message;
  el.className = bad ? "bad" : "ok";
}

async function post(url, body) {
  const token = $('meta[name="csrf-token"]').content;
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Satchel-CSRF": token },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = data.error || {};
    throw new Error((err.message || response.statusText) + (err.hint ? ` (${err.hint})` : ""));
  }
  return data;
}

async function act(promise, then) {
  try {
    const data = await promise;
    if (then) then(data);
  } catch (err) {
    flash(err.message, true);
  }
}

// Two clicks instead of confirm(): no native dialogs in this UI.
function armed(button) {
  if (button.dataset.armed === "1") return true;
  button.dataset.armed = "1";
  button.dataset.label = button.textContent;
  button.textContent = "sure?";
  setTimeout(() => { button.dataset.armed = ""; button.textContent = button.dataset.label; }, 4000);
  return false;
}

// ---- sidebar ------------------------------------------------------------------------
function initSidebar() {
  const create = $("#create-experiment");
  if (create) create.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = create.elements.name.value;
    act(post("/ui-api/experiments", { name }), (d) => { location.href = `/experiments/${d.experiment_id}`; });
  });
  for (const li of $$(".exp")) {
    const id = li.dataset.experimentId;
    const rename = $(".exp-rename", li);
    if (rename) rename.addEventListener("click", () => startRename(li, id));
    const del = $(".exp-delete", li);
    if (del) del.addEventListener("click", () => {
      if (armed(del)) act(post(`/ui-api/experiments/${id}/delete`), () => { location.href = "/"; });
    });
    const restore = $(".exp-restore", li);
    if (restore) restore.addEventListener("click", () =>
      act(post(`/ui-api/experiments/${id}/restore`), () => { location.href = `/experiments/${id}`; }));
  }
  const together = $("#show-together");
  if (together) together.addEventListener("click", () => {
    const ids = $$(".exp-check:checked").map((c) => c.value);
    if (ids.length) location.href = `/experiments/${ids.join(",")}`;
    else flash("Tick the experiments to show together.", true);
  });
}

function startRename(li, id) {
  const form = document.createElement("form");
  form.className = "rename-form";
  const input = document.createElement("input");
  input.name = "name";
  input.value = li.dataset.name;
  input.setAttribute("aria-label", "New name");
  const save = document.createElement("button");
  save.textContent = "Save";
  form.append(input, save);
  li.append(form);
  input.focus();
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(post(`/ui-api/experiments/${id}/rename`, { name: input.value }), () => location.reload());
  });
}

// ---- runs table -----------------------------------------------------------------------
function selectedRuns() { return $$(".run-check:checked").map((c) => c.value); }

function initRunsTable() {
  if (PAGE.kind !== "experiment") return;
  const memoryKey = `satchel.columns.${PAGE.experiment_ids.join(",")}`;
  if (PAGE.has_cols) localStorage.setItem(memoryKey, JSON.stringify(PAGE.columns));
  else {
    const remembered = JSON.parse(localStorage.getItem(memoryKey) || "null");
    if (remembered && remembered.length) {
      const url = new URL(location.href);
      for (const col of remembered) url.searchParams.append("col", col);
      location.replace(url.toString());
      return;
    }
  }
  const columnsForm = $("#columns-form");
  if (columnsForm) columnsForm.addEventListener("submit", () => {
    const cols = $$('input[name="col"]:checked', columnsForm).map((c) => c.value);
    localStorage.setItem(memoryKey, JSON.stringify(cols));
  });
  const buttons = ["#compare-selected", "#delete-selected", "#restore-selected", "#move-selected"]
    .map((s) => $(s)).filter(Boolean);
  const refresh = () => {
    const n = selectedRuns().length;
    for (const b of buttons) b.disabled = n === 0;
  };
  for (const c of $$(".run-check")) c.addEventListener("change", refresh);
  const all = $("#select-all");
  if (all) all.addEventListener("change", () => { for (const c of $$(".run-check")) c.checked = all.checked; refresh(); });
  refresh();
  $("#compare-selected").addEventListener("click", () => { location.href = `/compare?runs=${selectedRuns().join(",")}`; });
  const del = $("#delete-selected");
  if (del) del.addEventListener("click", () => act(post("/ui-api/runs/delete", { run_ids: selectedRuns() }), () => location.reload()));
  const restore = $("#restore-selected");
  if (restore) restore.addEventListener("click", () => act(post("/ui-api/runs/restore", { run_ids: selectedRuns() }), () => location.reload()));
  $("#move-selected").addEventListener("click", () => {
    const target = $("#move-target").value;
    act(post("/ui-api/runs/move", { run_ids: selectedRuns(), experiment_id: target }), () => location.reload());
  });
  for (const t of $$(".toggle-children")) t.addEventListener("click", () => toggleChildren(t));
}

function toggleChildren(button) {
  const row = button.closest("tr");
  const open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", String(!open));
  button.textContent = open ? "▸" : "▾";
  const hide = (parentId, hidden) => {
    for (const child of $$(`tr[data-parent="${CSS.escape(parentId)}"]`)) {
      child.hidden = hidden;
      hide(child.dataset.runId, hidden);
    }
  };
  hide(row.dataset.runId, open);
}

// ---- run page -----------------------------------------------------------------------
function initRunPage() {
  if (PAGE.kind !== "run") return;
  const runId = PAGE.run_id;
  const edit = $("#edit-description");
  const form = $("#description-form");
  edit.addEventListener("click", () => { form.hidden = !form.hidden; });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(post(`/ui-api/runs/${runId}/description`, { text: form.elements.text.value }), () => location.reload());
  });
  const tagForm = $("#tag-form");
  tagForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { key: tagForm.elements.key.value, value: tagForm.elements.value.value };
    act(post(`/ui-api/runs/${runId}/tags`, body), () => location.reload());
  });
  for (const b of $$(".tag-delete")) b.addEventListener("click", () => {
    const key = b.closest("tr").dataset.key;
    act(post(`/ui-api/runs/${runId}/tags/delete`, { key }), () => location.reload());
  });
  for (const a of $$(".artifact-link")) a.addEventListener("click", (ev) => {
    ev.preventDefault();
    showPreview(a.href);
  });
  // min / max / count read every point: asked once the chart is drawn, not competing with it
  if ($("#metric-chart")) new MetricChart($("#metric-chart"), [runId]).firstDraw.then(() => fillRanges(runId));
  else fillRanges(runId);
}

async function fillRanges(runId) {
  const response = await fetch(`/ui-api/runs/${runId}/metric-ranges`, { credentials: "same-origin" });
  if (!response.ok) return;
  const { ranges } = await response.json();
  for (const tr of $$(".metrics-table tr[data-key]")) {
    const r = ranges[tr.dataset.key] || {};
    const show = (v) => (v === null || v === undefined ? "" : String(Number(Number(v).toPrecision(6))));
    $(".range-min", tr).textContent = show(r.min);
    $(".range-max", tr).textContent = show(r.max);
    $(".range-count", tr).textContent = r.count === undefined ? "" : String(r.count);
  }
  $(".metrics-table").dataset.ranges = "1";
}

async function showPreview(url) {
  const box = $("#preview");
  box.textContent = "Loading…";
  const response = await fetch(url, { credentials: "same-origin" });
  const html = await response.text();
  // The fragment is server-rendered with every user value escaped; take only its body.
  const doc = new DOMParser().parseFromString(html, "text/html");
  const body = doc.querySelector(".preview-body") || doc.querySelector(".error-box");
  box.replaceChildren(body ? document.adoptNode(body) : document.createTextNode("No preview."));
}

// ---- metric charts ------------------------------------------------------------------
function smooth(values, weight) {
  if (!weight) return values;
  let last = 0, count = 0;
  return values.map((v) => {
    if (v === null || !isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count += 1;
    return last / (1 - Math.pow(weight, count)); // debiased, as TensorBoard
  });
}

class MetricChart {
  constructor(el, runIds) {
    this.el = el;
    this.runIds = runIds;
    this.lo = null;
    this.hi = null;
    this.series = [];
    this.busy = false;
    this.firstDraw = new Promise((resolve) => { this.drawnOnce = resolve; });
    const redraw = () => { this.remember(); this.draw(); };
    for (const c of $$(".chart-metric")) c.addEventListener("change", () => { this.remember(); this.load(); });
    $("#chart-x").addEventListener("change", () => { this.remember(); this.lo = this.hi = null; this.draw(true); });
    $("#chart-smoothing").addEventListener("input", redraw);
    $("#chart-log").addEventListener("change", redraw);
    $("#chart-reset").addEventListener("click", () => { this.lo = this.hi = null; this.load(true); });
    this.load(true);
  }

  keys() { return $$(".chart-metric:checked").map((c) => c.value); }

  // The settings go into the page's URL (the server renders the controls from it), so a
  // view can be shared and survives a reload.
  remember() {
    const url = new URL(location.href);
    for (const name of ["metric", "x", "smoothing", "log"]) url.searchParams.delete(name);
    for (const k of this.keys()) url.searchParams.append("metric", k);
    const x = $("#chart-x").value, smoothing = Number($("#chart-smoothing").value);
    if (x !== "step") url.searchParams.set("x", x);
    if (smoothing > 0) url.searchParams.set("smoothing", String(smoothing));
    if ($("#chart-log").checked) url.searchParams.set("log", "1");
    history.replaceState(history.state, "", url);
  }

  async load(reset) {
    const keys = this.keys();
    if (!keys.length) { Plotly.purge(this.el); this.drawnOnce(); return; }
    // Same parameter order as the server's history_url, so a preloaded response is reused.
    const url = new URL("/ui-api/metric-history", location.origin);
    for (const r of this.runIds) url.searchParams.append("run", r);
    for (const k of keys) url.searchParams.append("key", k);
    url.searchParams.append("points", String(PAGE.points || 1000));
    if (this.lo !== null) url.searchParams.set("lo", String(Math.floor(this.lo)));
    if (this.hi !== null) url.searchParams.set("hi", String(Math.ceil(this.hi)));
    const t0 = performance.now();
    const response = await fetch(url, { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) { flash(data.error ? data.error.message : "chart failed", true); this.drawnOnce(); return; }
    this.series = data.series;
    this.draw(reset, t0);
  }

  xs(s, mode) {
    if (mode === "wall") return s.timestamps.map((t) => new Date(t));
    if (mode === "relative") return s.timestamps.map((t) => (t - s.start_time) / 1000);
    return s.steps;
  }

  draw(reset, t0) {
    const mode = $("#chart-x").value;
    const weight = Number($("#chart-smoothing").value);
    const several = this.runIds.length > 1;
    const traces = this.series.map((s) => ({
      type: "scatter",
      mode: s.steps.length === 1 ? "markers" : "lines",
      name: several ? `${s.run_name} · ${s.key}` : s.key,
      x: this.xs(s, mode),
      y: smooth(s.values, weight),
      customdata: s.steps,
      hovertemplate: "step %{customdata}<br>%{y}<extra>%{fullData.name}</extra>",
    }));
    const titles = { step: "step", wall: "wall time", relative: "relative time (s)" };
    const layout = {
      margin: { t: 20, r: 20, b: 40, l: 60 },
      xaxis: { title: { text: titles[mode] } },
      yaxis: { type: $("#chart-log").checked ? "log" : "linear" },
      legend: { orientation: "h" },
      uirevision: reset ? Math.random() : "keep",
    };
    const points = this.series.reduce((n, s) => n + s.steps.length, 0);
    Plotly.react(this.el, traces, layout, { responsive: true, displaylogo: false }).then(() => {
      this.el.dataset.drawn = String(Number(this.el.dataset.drawn || 0) + 1);
      if (!this.el.dataset.firstDrawnAt) this.el.dataset.firstDrawnAt = String(performance.now());
      this.drawnOnce();
      this.el.dataset.points = String(points);
      this.el.dataset.sampled = String(this.series.some((s) => s.sampled));
      const took = t0 ? ` in ${Math.round(performance.now() - t0)} ms` : "";
      $("#chart-status").textContent = `${points} points drawn${took}`;
      if (!this.bound) { this.bound = true; this.el.on("plotly_relayout", (ev) => this.zoomed(ev)); }
    });
  }

  // A zoom asks the server again for the visible steps, at full detail.
  zoomed(ev) {
    if (ev["xaxis.autorange"]) { this.lo = this.hi = null; this.load(); return; }
    const range = ev["xaxis.range"] || [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
    const [a, b] = range;
    if (a === undefined || b === undefined) return;
    const mode = $("#chart-x").value;
    if (mode === "step") { this.lo = Math.floor(a); this.hi = Math.ceil(b); }
    else {
      const toX = mode === "wall" ? (v) => new Date(v).getTime() : Number;
      const [lo, hi] = [toX(a), toX(b)];
      let first = Infinity, last = -Infinity;
      for (const s of this.series) {
        const xs = this.xs(s, mode).map((x) => (mode === "wall" ? x.getTime() : x));
        xs.forEach((x, i) => {
          if (x >= lo && x <= hi) {
            first = Math.min(first, s.steps[Math.max(i - 1, 0)]);
            last = Math.max(last, s.steps[Math.min(i + 1, s.steps.length - 1)]);
          }
        });
      }
      if (!isFinite(first)) return;
      this.lo = first; this.hi = last;
    }
    this.load();
  }
}

// ---- compare page ---------------------------------------------------------------------
function columnValues(row) {
  const numbers = row.values.map((v) => (v === null || v === "" ? null : Number(v)));
  const numeric = numbers.every((v) => v === null || isFinite(v));
  return { key: `${row.kind === "param" ? "params" : "metrics"}.${row.key}`, numeric, values: numeric ? numbers : row.values };
}

function initCompare() {
  if (PAGE.kind !== "compare") return;
  const data = PAGE.compare;
  const columns = data.rows.map(columnValues);
  const names = data.runs.map((r) => r.run_name);
  for (const sel of $$(".plot-axis")) {
    for (const c of columns) {
      const opt = document.createElement("option");
      opt.value = c.key; opt.textContent = c.key;
      sel.append(opt);
    }
  }
  const params = columns.filter((c) => c.key.startsWith("params."));
  const metrics = columns.filter((c) => c.key.startsWith("metrics."));
  if (params[0]) $("#plot-x").value = params[0].key;
  if (params[1] || metrics[0]) $("#plot-y").value = (params[1] || metrics[0]).key;
  if (metrics[0]) $("#plot-z").value = metrics[0].key;
  const byKey = Object.fromEntries(columns.map((c) => [c.key, c]));
  const draw = () => drawComparePlot($("#plot-kind").value, byKey, columns, names);
  for (const s of ["#plot-kind", "#plot-x", "#plot-y", "#plot-z"]) $(s).addEventListener("change", draw);
  draw();
  $("#only-differences").addEventListener("change", (ev) => {
    for (const tr of $$("#compare-table tbody tr[data-key]")) tr.hidden = ev.target.checked && !tr.classList.contains("differs");
  });
  if ($("#metric-chart")) new MetricChart($("#metric-chart"), PAGE.run_ids);
}

function dimension(c) {
  if (c.numeric) return { label: c.key, values: c.values.map((v) => (v === null ? NaN : v)) };
  const levels = Array.from(new Set(c.values.map(String)));
  return { label: c.key, values: c.values.map((v) => levels.indexOf(String(v))), tickvals: levels.map((_, i) => i), ticktext: levels };
}

// Parallel coordinates as SVG lines (plotly's parcoords needs WebGL, which many remote and
// headless browsers lack): each axis scaled to [0, 1], labelled with its own min and max.
function parallelTraces(columns, names, z) {
  const dims = columns.map(dimension);
  const scaled = dims.map((d) => {
    const vals = d.values.filter((v) => isFinite(v));
    const lo = Math.min(...vals), hi = Math.max(...vals);
    return { d, lo, hi, at: (v) => (isFinite(v) ? (hi > lo ? (v - lo) / (hi - lo) : 0.5) : null) };
  });
  const zs = z && z.numeric ? z.values : null;
  const zlo = zs ? Math.min(...zs.filter(isFinite)) : 0, zhi = zs ? Math.max(...zs.filter(isFinite)) : 1;
  const colour = (i) => {
    if (!zs || !isFinite(zs[i])) return "#1f6feb";
    const t = zhi > zlo ? (zs[i] - zlo) / (zhi - zlo) : 0.5;
    return `hsl(${Math.round(260 - 200 * t)}, 70%, 45%)`;
  };
  const traces = names.map((name, i) => ({
    type: "scatter", mode: "lines+markers", name, showlegend: false,
    x: scaled.map((_, j) => j), y: scaled.map((s) => s.at(s.d.values[i])),
    line: { color: colour(i), width: 2 }, hovertemplate: `${name}<extra></extra>`,
  }));
  const label = (s, v) => (s.d.ticktext ? s.d.ticktext[v] ?? "" : Number(v.toPrecision(4)));
  const annotations = scaled.flatMap((s, j) => [
    { x: j, y: 1.04, text: String(label(s, s.hi)), showarrow: false, font: { size: 10 } },
    { x: j, y: -0.04, text: String(label(s, s.lo)), showarrow: false, font: { size: 10 } },
  ]);
  const shapes = scaled.map((_, j) => ({ type: "line", x0: j, x1: j, y0: 0, y1: 1, line: { color: "#888" } }));
  return { traces, layout: {
    xaxis: { tickvals: scaled.map((_, j) => j), ticktext: scaled.map((s) => s.d.label), zeroline: false },
    yaxis: { visible: false, range: [-0.1, 1.1] }, annotations, shapes,
    title: { text: zs ? `colour: ${z.key}` : "", font: { size: 12 } } } };
}

function drawComparePlot(kind, byKey, columns, names) {
  const el = $("#compare-plot");
  const x = byKey[$("#plot-x").value], y = byKey[$("#plot-y").value], z = byKey[$("#plot-z").value];
  let traces = [], extra = {};
  if (kind === "parallel") {
    ({ traces, layout: extra } = parallelTraces(columns, names, z));
  } else if (kind === "scatter" && x && y) {
    traces = [{ type: "scatter", mode: "markers", x: x.values, y: y.values, text: names,
      marker: { size: 10, color: z && z.numeric ? z.values : undefined, showscale: !!(z && z.numeric) } }];
  } else if (kind === "contour" && x && y && z) {
    traces = [{ type: "contour", x: x.values, y: y.values, z: z.values, colorscale: "Viridis" },
      { type: "scatter", mode: "markers", x: x.values, y: y.values, text: names, marker: { color: "white" } }];
  } else if (kind === "box" && x && y) {
    const groups = new Map();
    x.values.forEach((v, i) => { const k = String(v); if (!groups.has(k)) groups.set(k, []); groups.get(k).push(y.values[i]); });
    traces = Array.from(groups, ([k, ys]) => ({ type: "box", name: k, y: ys, boxpoints: "all" }));
  }
  const layout = Object.assign({ margin: { t: 30, r: 20, b: 50, l: 60 },
    xaxis: { title: { text: x ? x.key : "" } }, yaxis: { title: { text: y ? y.key : "" } } }, extra);
  Plotly.react(el, traces, layout, { responsive: true, displaylogo: false }).then(() => {
    el.dataset.drawn = kind;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  initSidebar();
  initRunsTable();
  initRunPage();
  initCompare();
  document.body.dataset.ready = "1"; // tests and benchmarks wait for this
});
