// The drawing: one Cytoscape.js instance (canvas; no GPU needed), its style, community colours,
// score sizes, the time filter and the exports. Views give it elements; it never fetches.

import cytoscape from "cytoscape";
import { t, tr } from "./i18n";

export const FONT_STACK =
  '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", "DejaVu Sans", "Liberation Sans", sans-serif';

export interface NodeSpec {
  id: string;
  label: string;
  masked?: boolean;
  kind?: string | null;
  community?: string | null;
  score?: number | null;
  hop?: number | null;
  x?: number;
  y?: number;
  classes?: string[];
  fields?: Record<string, unknown>;
}

export interface EdgeSpec {
  id?: string;
  source: string;
  target: string;
  kind: string;
  strength?: number | null;
  date?: string | null; // tie `since` or transfer `at`: what the time slider filters
  label?: string;
  classes?: string[];
  fields?: Record<string, unknown>;
}

export interface SnapshotNode {
  id: string;
  kind: string | null;
  classes: string[];
  data: Record<string, unknown>;
  position: { x: number; y: number };
  rendered: { x: number; y: number };
}

export interface SnapshotEdge {
  id: string;
  source: string;
  target: string;
  kind: string;
  classes: string[];
  data: Record<string, unknown>;
}

export interface Snapshot {
  view: string;
  nodes: SnapshotNode[];
  edges: SnapshotEdge[];
  legend: Array<{ community: string; color: string; count: number }>;
  timeFilter: string | null;
}

// Distinct colours for communities: a qualitative palette first, then golden-angle hues.
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
  "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
];
const NO_COMMUNITY = "#9e9e9e";

export function communityColour(index: number): string {
  if (index < PALETTE.length) return PALETTE[index];
  const hue = Math.round((index * 137.508) % 360);
  const light = 35 + ((index * 7) % 3) * 12;
  return `hsl(${hue}, 65%, ${light}%)`;
}

export function communityClass(community: string): string {
  return `community-${community.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

const SIZE_MIN = 14;
// elements added per step: nodes come first, so a very large view shows its customers at once
const CHUNK = 12_000;
/** Above this many nodes a view is large: plain style, ties on the underlay, own hit test. */
export const LARGE = 1_500;

function bulkEdge(e: cytoscape.ElementDefinition): {
  id: string;
  source: string;
  target: string;
  data: Record<string, unknown>;
  classes: string[];
} {
  const data = e.data as Record<string, unknown>;
  const classes = Array.isArray(e.classes) ? e.classes.map(String) : [];
  return { id: String(data.id), source: String(data.source), target: String(data.target), data, classes };
}
const SIZE_MAX = 48;

/** Node sizes that follow the scores' order (sqrt-scaled between the drawn min and max). */
export function sizesFor(scores: Array<number | null>): number[] {
  const known = scores.filter((s): s is number => typeof s === "number" && Number.isFinite(s));
  if (known.length === 0) return scores.map(() => SIZE_MIN + 8);
  const low = Math.min(...known);
  const high = Math.max(...known);
  return scores.map((s) => {
    if (typeof s !== "number" || !Number.isFinite(s)) return SIZE_MIN;
    const f = high > low ? (s - low) / (high - low) : 0.5;
    return Math.round((SIZE_MIN + (SIZE_MAX - SIZE_MIN) * Math.sqrt(f)) * 10) / 10;
  });
}

/** The style; ``large`` views (thousands of elements) get plain edges and thin borders, which
 *  Cytoscape styles and paints several times faster. */
function style(large: boolean): cytoscape.StylesheetJson {
  const sheet: Array<{ selector: string; style: Record<string, unknown> }> = [
    {
      selector: "node",
      style: {
        "background-color": "data(color)",
        width: "data(size)",
        height: "data(size)",
        label: "data(label)",
        "font-family": FONT_STACK,
        "font-size": 11,
        color: "#222",
        "text-valign": "bottom",
        "text-margin-y": 3,
        "min-zoomed-font-size": 7,
        "border-width": 1,
        "border-color": "#ffffff",
      },
    },
    { selector: "node.COMPANY", style: { shape: "round-rectangle" } },
    {
      selector: "node.identifier",
      style: { shape: "diamond", "background-color": "#6a1b9a", width: 26, height: 26 },
    },
    { selector: "node.center", style: { "border-width": 4, "border-color": "#111" } },
    {
      selector: "edge",
      style: {
        width: "mapData(strength, 0, 1, 0.5, 4)",
        "line-color": "#9aa5b1",
        "curve-style": "haystack",
        opacity: 0.75,
        "font-family": FONT_STACK,
        "font-size": 9,
        "min-zoomed-font-size": 7,
      },
    },
    {
      selector: "edge.directed",
      style: {
        "curve-style": "bezier",
        "target-arrow-shape": "triangle",
        "target-arrow-color": "#607d8b",
        "line-color": "#607d8b",
        width: 2,
      },
    },
    {
      selector: "edge.labelled",
      style: {
        label: "data(label)",
        "text-rotation": "autorotate",
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.85,
        "text-background-padding": "1px",
      },
    },
    { selector: "edge.expandedTie", style: { "line-color": "#78909c" } },
    {
      selector: ".path",
      style: { "line-color": "#ef6c00", "target-arrow-color": "#ef6c00", "z-index": 9 },
    },
    { selector: "edge.path", style: { width: 5, opacity: 1 } },
    { selector: "node.path", style: { "border-width": 4, "border-color": "#ef6c00" } },
    { selector: "node.target", style: { "border-width": 4, "border-color": "#2e7d32" } },
    { selector: "node.circle", style: { "border-width": 4, "border-color": "#c62828" } },
    {
      selector: "edge.circle",
      style: { "line-color": "#c62828", "target-arrow-color": "#c62828", width: 4 },
    },
    { selector: "node.ring", style: { "border-width": 4, "border-color": "#6a1b9a" } },
    { selector: "edge.ring", style: { "line-color": "#6a1b9a", width: 3 } },
    { selector: "node.cycle", style: { "border-width": 4, "border-color": "#ad1457" } },
    {
      selector: "edge.cycle",
      style: { "line-color": "#ad1457", "target-arrow-color": "#ad1457", width: 4 },
    },
    { selector: "node.group", style: { "border-width": 4, "border-color": "#00695c" } },
    {
      selector: "edge.group",
      style: { "line-color": "#00695c", "target-arrow-color": "#00695c", width: 3 },
    },
    { selector: ".later", style: { display: "none" } },
    { selector: ".faded", style: { opacity: 0.25 } },
    { selector: "node:selected", style: { "overlay-color": "#1565c0", "overlay-opacity": 0.25 } },
    { selector: "edge:selected", style: { "overlay-color": "#1565c0", "overlay-opacity": 0.3 } },
  ];
  const plain: Record<string, Record<string, unknown>> = {
    // Cytoscape's own hit test and press/release restyling cost a frame each in a view this
    // size: its nodes take no events, and the page finds the node under a click (nodeAt)
    node: { "border-width": 0, "min-zoomed-font-size": 9, events: "no" },
    // nor are its edges hit-tested at every mouse move (their details: in a smaller view)
    edge: { width: 0.7, "line-color": "#b0bec5", "curve-style": "haystack", opacity: 0.6, events: "no" },
  };
  // a large view keeps only the rules it can use: every rule is matched against every element
  const kept = new Set(["node", "node.COMPANY", "node.center", ".path", "edge.path", "node.path", ".later", "node:selected"]);
  const chosen = large
    ? sheet
        .filter((rule) => kept.has(rule.selector) || rule.selector === "edge")
        .map((rule) =>
          rule.selector === "edge"
            ? { selector: "edge", style: plain.edge }
            : rule.selector === "node"
              ? { selector: "node", style: { ...rule.style, ...plain.node } }
              : rule,
        )
    : sheet;
  return chosen as unknown as cytoscape.StylesheetJson;
}

export class Canvas {
  readonly cy: cytoscape.Core;
  private view = "";
  private legendEntries: Array<{ community: string; color: string; count: number }> = [];
  private colours = new Map<string, string>();
  private timeCut: string | null = null;

  constructor(container: HTMLElement) {
    this.cy = cytoscape({
      container,
      style: style(false),
      layout: { name: "preset" },
      minZoom: 0.02,
      maxZoom: 5,
      pixelRatio: 1, // the same image on every screen, and a quarter of the pixels on HiDPI
      motionBlur: false,
      selectionType: "single",
      boxSelectionEnabled: false,
    });
    // a large view's ties are drawn on a canvas of their own under Cytoscape's (see `bulk`)
    this.underlay = document.createElement("canvas");
    this.underlay.className = "edge-underlay";
    container.prepend(this.underlay);
    this.cy.on("viewport resize", () => this.scheduleUnderlay());
  }

  // --- a large view's ties ----------------------------------------------------------------
  // Cytoscape styles, hit-tests and paints every element it holds; for thousands of ties that
  // is most of a large view's drawing time. Above LARGE nodes the ties are kept here instead
  // and stroked as one path on the underlay canvas whenever the viewport changes (~20 ms for
  // 10,000 ties). They are listed by graph(), exported to CSV and PNG, and filtered by time,
  // like any other drawn edge; only a click on one of them shows nothing.
  private readonly underlay: HTMLCanvasElement;
  private bulk: Array<{ id: string; source: string; target: string; data: Record<string, unknown>; classes: string[] }> = [];
  private underlayPending = false;

  private scheduleUnderlay(): void {
    if (this.underlayPending) return;
    this.underlayPending = true;
    requestAnimationFrame(() => {
      this.underlayPending = false;
      this.drawUnderlay();
    });
  }

  private drawUnderlay(): void {
    const canvas = this.underlay;
    const width = this.cy.width();
    const height = this.cy.height();
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const context = canvas.getContext("2d");
    if (!context) return;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, width, height);
    if (this.bulk.length === 0) return;
    const zoom = this.cy.zoom();
    const pan = this.cy.pan();
    context.setTransform(zoom, 0, 0, zoom, pan.x, pan.y);
    this.strokeBulk(context, 1 / zoom);
  }

  /** Stroke the bulk ties into ``context`` (already transformed to model coordinates). */
  private strokeBulk(context: CanvasRenderingContext2D, pixel: number): void {
    const position = new Map<string, { x: number; y: number }>();
    this.cy.nodes().forEach((n) => {
      position.set(n.id(), n.position());
    });
    context.beginPath();
    for (const e of this.bulk) {
      if (this.isLater(e.data.date)) continue;
      const a = position.get(e.source);
      const b = position.get(e.target);
      if (!a || !b) continue;
      context.moveTo(a.x, a.y);
      context.lineTo(b.x, b.y);
    }
    context.lineWidth = 0.7 * pixel;
    context.strokeStyle = "rgba(144, 164, 174, 0.6)";
    context.stroke();
  }

  private isLater(date: unknown): boolean {
    return this.timeCut !== null && typeof date === "string" && date.slice(0, 10) > this.timeCut;
  }

  /** How many edges are drawn (Cytoscape's and the underlay's). */
  edgeCount(): number {
    return this.cy.edges().length + this.bulk.length;
  }

  get viewName(): string {
    return this.view;
  }

  /** Replace the drawing. Nodes without positions are placed by a circle layout. */
  draw(view: string, nodes: NodeSpec[], edges: EdgeSpec[]): void {
    this.view = view;
    this.timeCut = null;
    const large = nodes.length > LARGE;
    this.paint(nodes);
    this.cy.elements().remove();
    this.tune(large);
    const all = this.elements(nodes, edges, new Set());
    const elements = large ? all.filter((e) => e.group === "nodes") : all;
    this.bulk = large ? all.filter((e) => e.group === "edges").map(bulkEdge) : [];
    this.cy.batch(() => {
      this.cy.add(elements.slice(0, CHUNK));
    });
    this.rest = elements.slice(CHUNK);
    const unplaced = new Set(nodes.filter((n) => n.x === undefined || n.y === undefined).map((n) => n.id));
    if (unplaced.size > 0) {
      this.cy
        .nodes()
        .filter((n) => unplaced.has(n.id()))
        .layout({ name: "circle", fit: false, animate: false })
        .run();
    }
    this.fit();
    this.scheduleUnderlay();
  }

  private rest: cytoscape.ElementDefinition[] = [];

  /** What ``draw`` left to add (a very large view is added a chunk at a time, so the page
   *  keeps answering); ``progress(done, total)`` after each chunk. */
  async drawRest(progress: (done: number, total: number) => void): Promise<void> {
    const total = this.rest.length + Math.min(CHUNK, this.cy.elements().length);
    while (this.rest.length > 0) {
      const chunk = this.rest.splice(0, CHUNK);
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the page answer
      this.cy.batch(() => {
        this.cy.add(chunk);
      });
      progress(total - this.rest.length, total);
    }
  }

  /** Everything in view, never magnified past 1.3 (a few nodes would fill the screen).
   *  From the node positions alone: Cytoscape's own fit measures every label first, which
   *  takes seconds for thousands of nodes. */
  fit(): void {
    const nodes = this.cy.nodes();
    if (nodes.length === 0) return;
    let x1 = Infinity;
    let y1 = Infinity;
    let x2 = -Infinity;
    let y2 = -Infinity;
    nodes.forEach((n) => {
      const p = n.position();
      const r = (Number(n.data("size")) || SIZE_MIN) / 2;
      x1 = Math.min(x1, p.x - r);
      y1 = Math.min(y1, p.y - r);
      x2 = Math.max(x2, p.x + r);
      y2 = Math.max(y2, p.y + r + 16); // the label under the node
    });
    const pad = 30;
    const w = Math.max(this.cy.width() - 2 * pad, 10);
    const h = Math.max(this.cy.height() - 2 * pad, 10);
    const zoom = Math.min(1.3, w / Math.max(x2 - x1, 1), h / Math.max(y2 - y1, 1));
    this.cy.viewport({
      zoom,
      pan: { x: this.cy.width() / 2 - zoom * (x1 + x2) / 2, y: this.cy.height() / 2 - zoom * (y1 + y2) / 2 },
    });
  }

  /** Keep ``ids`` in view: fit again only when one of them is outside the viewport. */
  keepInView(ids: string[]): void {
    const extent = this.cy.extent();
    const outside = ids.some((id) => {
      const p = this.cy.getElementById(id).position();
      return p.x < extent.x1 || p.x > extent.x2 || p.y < extent.y1 || p.y > extent.y2;
    });
    if (outside) this.fit();
  }

  /** Add nodes and edges to the drawing; existing nodes keep their positions. */
  add(nodes: NodeSpec[], edges: EdgeSpec[]): { nodes: string[]; edges: string[] } {
    const existing = new Set([...this.cy.elements().map((e) => e.id()), ...this.bulk.map((e) => e.id)]);
    for (const e of this.bulk) {
      existing.add(e.source);
      existing.add(e.target);
    }
    const fresh = this.elements(nodes, edges, existing);
    this.cy.batch(() => {
      this.cy.add(this.large ? fresh.filter((e) => e.group === "nodes") : fresh);
    });
    if (this.large) this.bulk.push(...fresh.filter((e) => e.group === "edges").map(bulkEdge));
    this.refreshColoursAndSizes();
    this.applyTime();
    this.scheduleUnderlay();
    return {
      nodes: fresh.filter((e) => e.group === "nodes").map((e) => String(e.data.id)),
      edges: fresh.filter((e) => e.group === "edges").map((e) => String(e.data.id)),
    };
  }

  large = false;

  /** The node drawn under a point of the page (client coordinates), if any. */
  nodeAtClient(clientX: number, clientY: number): string | null {
    const box = this.cy.container()?.getBoundingClientRect();
    if (!box) return null;
    const pan = this.cy.pan();
    const zoom = this.cy.zoom();
    return this.nodeAt({ x: (clientX - box.left - pan.x) / zoom, y: (clientY - box.top - pan.y) / zoom });
  }

  /** The node drawn under a model position (the topmost), for large views. */
  nodeAt(position: { x: number; y: number }): string | null {
    const slack = 3 / this.cy.zoom();
    let found: string | null = null;
    this.cy.nodes().forEach((n) => {
      const p = n.position();
      const r = (Number(n.data("size")) || SIZE_MIN) / 2 + slack;
      const dx = p.x - position.x;
      const dy = p.y - position.y;
      if (dx * dx + dy * dy <= r * r) found = n.id();
    });
    return found;
  }

  private tune(large: boolean): void {
    if (large !== this.large) {
      this.large = large;
      this.cy.style(style(large));
      // a press on a node of a large view neither grabs it nor restyles it (each a frame)
      this.cy.autoungrabify(large);
    }
    // big views: no textures of labels while panning, edges hidden while moving
    const renderer = this.cy as unknown as {
      renderer(): { textureOnViewport: boolean; hideEdgesOnViewport: boolean };
    };
    const r = renderer.renderer();
    r.textureOnViewport = false;
    r.hideEdgesOnViewport = false;
  }

  private elements(
    nodes: NodeSpec[],
    edges: EdgeSpec[],
    existing: Set<string>,
  ): cytoscape.ElementDefinition[] {
    const out: cytoscape.ElementDefinition[] = [];
    const ids = new Set(existing);
    for (const n of nodes) {
      if (ids.has(n.id)) continue;
      ids.add(n.id);
      const classes = [...(n.classes ?? [])];
      if (n.kind) classes.push(n.kind);
      if (n.community) classes.push(communityClass(n.community));
      out.push({
        group: "nodes",
        data: {
          ...(n.fields ?? {}),
          id: n.id,
          label: n.label,
          masked: Boolean(n.masked),
          kind: n.kind ?? null,
          community: n.community ?? null,
          score: n.score ?? null,
          hop: n.hop ?? null,
          color: n.fields?.color ?? NO_COMMUNITY,
          size: n.fields?.size ?? SIZE_MIN,
        },
        position: n.x !== undefined && n.y !== undefined ? { x: n.x, y: n.y } : undefined,
        classes,
      });
    }
    const seen = new Map<string, number>();
    for (const e of edges) {
      if (!ids.has(e.source) || !ids.has(e.target)) continue;
      const base = e.id ?? `${e.source}>${e.target}:${e.kind}`;
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      const id = e.id ?? (n === 0 ? base : `${base}#${n}`);
      if (ids.has(id)) continue;
      ids.add(id);
      out.push({
        group: "edges",
        data: {
          ...(e.fields ?? {}),
          id,
          source: e.source,
          target: e.target,
          kind: e.kind,
          strength: e.strength ?? 0.5,
          date: e.date ?? null,
          label: e.label ?? "",
        },
        classes: [...(e.classes ?? [])],
      });
    }
    return out;
  }

  /** A colour for each community not coloured yet (the most drawn nodes first, ties by id)
   *  and the legend of `counts` (drawn nodes per community) in that order. A community
   *  keeps its colour while the view lives (an expansion does not repaint). */
  private colourCommunities(counts: Map<string, number>): void {
    const order = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [community] of order) {
      if (!this.colours.has(community)) this.colours.set(community, communityColour(this.colours.size));
    }
    this.legendEntries = order.map(([community, count]) => ({
      community,
      color: this.colours.get(community) ?? NO_COMMUNITY,
      count,
    }));
  }

  /** Colours and sizes of nodes about to be drawn (set before adding: changing thousands
   *  of drawn elements' data restyles each of them). */
  private paint(nodes: NodeSpec[]): void {
    const counts = new Map<string, number>();
    for (const n of nodes) if (n.community && n.kind !== "IDENTIFIER") counts.set(n.community, (counts.get(n.community) ?? 0) + 1);
    this.colourCommunities(counts);
    const sized = nodes.filter((n) => n.kind !== "IDENTIFIER");
    const sizes = sizesFor(sized.map((n) => n.score ?? null));
    sized.forEach((n, i) => {
      n.fields = {
        ...(n.fields ?? {}),
        color: n.community ? (this.colours.get(n.community) ?? NO_COMMUNITY) : NO_COMMUNITY,
        size: sizes[i],
      };
    });
  }

  /** Colours by community (in order of how many drawn nodes each has) and sizes by score. */
  refreshColoursAndSizes(): void {
    const nodes = this.cy.nodes().not(".identifier");
    const counts = new Map<string, number>();
    nodes.forEach((n) => {
      const c = n.data("community") as string | null;
      if (c) counts.set(c, (counts.get(c) ?? 0) + 1);
    });
    this.colourCommunities(counts);
    const scores = nodes.map((n) => n.data("score") as number | null);
    const sizes = sizesFor(scores);
    this.cy.batch(() => {
      nodes.forEach((n, i) => {
        const c = n.data("community") as string | null;
        const color = c ? (this.colours.get(c) ?? NO_COMMUNITY) : NO_COMMUNITY;
        if (n.data("color") !== color) n.data("color", color);
        if (n.data("size") !== sizes[i]) n.data("size", sizes[i]);
      });
    });
  }

  resetColours(): void {
    this.colours.clear();
  }

  legend(): Array<{ community: string; color: string; count: number }> {
    return [...this.legendEntries];
  }

  /** The dated edges' dates, sorted (the time slider's stops). */
  dates(): string[] {
    const dates = new Set<string>();
    this.cy.edges().forEach((e) => {
      const d = e.data("date") as string | null;
      if (d) dates.add(d.slice(0, 10));
    });
    for (const e of this.bulk) if (typeof e.data.date === "string") dates.add(e.data.date.slice(0, 10));
    return [...dates].sort();
  }

  /** Hide ties and transfers dated after ``cut`` (null shows all). */
  setTimeCut(cut: string | null): void {
    this.timeCut = cut;
    this.applyTime();
  }

  private applyTime(): void {
    const cut = this.timeCut;
    if (this.bulk.length) this.scheduleUnderlay();
    if (cut === null && this.cy.edges(".later").empty()) return;
    this.cy.batch(() => {
      this.cy.edges().forEach((e) => {
        const d = e.data("date") as string | null;
        const later = cut !== null && d !== null && d.slice(0, 10) > cut;
        if (later) e.addClass("later");
        else e.removeClass("later");
      });
    });
  }

  relabel(): void {
    // edge labels that name a kind follow the language
    this.cy.batch(() => {
      this.cy.edges(".labelled").forEach((e) => {
        const template = e.data("labelParts") as string[] | undefined;
        if (template) e.data("label", edgeLabel(template));
      });
    });
  }

  snapshot(): Snapshot {
    const nodes: SnapshotNode[] = this.cy.nodes().map((n) => {
      const data = { ...(n.data() as Record<string, unknown>) };
      const p = n.position();
      const r = n.renderedPosition();
      return {
        id: n.id(),
        kind: (data.kind as string | null) ?? null,
        classes: n.classes().filter((c) => c !== String(data.kind)),
        data,
        position: { x: p.x, y: p.y },
        rendered: { x: r.x, y: r.y },
      };
    });
    const edges: SnapshotEdge[] = this.cy.edges().map((e) => ({
      id: e.id(),
      source: e.source().id(),
      target: e.target().id(),
      kind: String(e.data("kind")),
      classes: e.classes(),
      data: { ...(e.data() as Record<string, unknown>) },
    }));
    for (const e of this.bulk) {
      edges.push({
        id: e.id,
        source: e.source,
        target: e.target,
        kind: String(e.data.kind),
        classes: this.isLater(e.data.date) ? [...e.classes, "later"] : [...e.classes],
        data: { ...e.data },
      });
    }
    return { view: this.view, nodes, edges, legend: this.legend(), timeFilter: this.timeCut };
  }

  /** Redraw exactly what a snapshot holds (its positions, classes and displayed data). */
  restore(snapshot: Snapshot): void {
    this.view = "snapshot";
    this.colours.clear();
    this.cy.elements().remove();
    const large = snapshot.nodes.length > LARGE;
    this.tune(large);
    const edges = snapshot.edges.map((e) => ({
      group: "edges" as const,
      data: { ...e.data, id: e.id, source: e.source, target: e.target },
      classes: e.classes.filter((c) => c !== "later"),
    }));
    this.bulk = large ? edges.map(bulkEdge) : [];
    this.timeCut = snapshot.timeFilter;
    this.cy.batch(() => {
      this.cy.add([
        ...snapshot.nodes.map((n) => ({
          group: "nodes" as const,
          data: { ...n.data, id: n.id },
          position: { ...n.position },
          classes: [...n.classes, ...(n.kind ? [n.kind] : [])],
        })),
        ...(large ? [] : edges),
      ]);
    });
    this.applyTime();
    this.legendEntries = [...snapshot.legend];
    this.fit();
    this.scheduleUnderlay();
  }

  /** The whole drawing as PNG, without the selection highlight (an export shows data); a
   *  large view's ties are stroked under Cytoscape's image the way the underlay draws them. */
  async png(): Promise<Blob> {
    const selected = this.cy.elements(":selected");
    selected.unselect();
    const bb = this.cy.elements().boundingBox();
    const side = Math.max(bb.w, bb.h, 1);
    const scale = Math.min(1.5, 4000 / side);
    let image: Blob;
    try {
      image = this.cy.png({ output: "blob", full: true, scale, bg: this.bulk.length ? undefined : "#ffffff" });
    } finally {
      selected.select();
    }
    if (this.bulk.length === 0) return image;
    const bitmap = await createImageBitmap(image);
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const context = canvas.getContext("2d");
    if (!context) return image;
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.setTransform(scale, 0, 0, scale, -bb.x1 * scale, -bb.y1 * scale);
    this.strokeBulk(context, 1 / scale);
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.drawImage(bitmap, 0, 0);
    return await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b ?? image), "image/png"));
  }

  csv(): string {
    const header = [
      "element", "id", "label", "masked", "kind", "community", "score", "classes",
      "source", "target", "strength", "date", "edge_label",
    ];
    const lines = [header];
    this.cy.nodes().forEach((n) => {
      const d = n.data() as Record<string, unknown>;
      lines.push([
        "node", n.id(), String(d.label ?? ""), String(Boolean(d.masked)), String(d.kind ?? ""),
        String(d.community ?? ""), d.score == null ? "" : String(d.score), n.classes().join(" "),
        "", "", "", "", "",
      ]);
    });
    const edgeLine = (id: string, d: Record<string, unknown>, classes: string[], source: string, target: string): string[] => [
      "edge", id, "", "", String(d.kind ?? ""), "", "", classes.join(" "),
      source, target, d.strength == null ? "" : String(d.strength), String(d.date ?? ""), String(d.label ?? ""),
    ];
    this.cy.edges().forEach((e) => {
      lines.push(edgeLine(e.id(), e.data() as Record<string, unknown>, e.classes(), e.source().id(), e.target().id()));
    });
    for (const e of this.bulk) lines.push(edgeLine(e.id, e.data, e.classes, e.source, e.target));
    const quote = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    return "\ufeff" + lines.map((l) => l.map(quote).join(",")).join("\r\n") + "\r\n";
  }
}

/** An edge label from parts: a kind key (`tie.FRIEND`, `rel.GUARANTEES`) or literal text. */
export function edgeLabel(parts: string[]): string {
  return parts
    .map((p) => {
      const dot = p.indexOf(".");
      if (p.startsWith("tie.") || p.startsWith("rel.")) return tr(p.slice(0, dot), p.slice(dot + 1));
      return p;
    })
    .join(" ");
}

export function kindLabel(kind: string): string {
  return kind.startsWith("REL:") ? tr("rel", kind.slice(4)) : tr("tie", kind);
}

export function statusText(nodes: number, edges: number): string {
  return t("status.drawn", { nodes, edges });
}
