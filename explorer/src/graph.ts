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

function style(): cytoscape.StylesheetJson {
  return [
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
  ] as unknown as cytoscape.StylesheetJson;
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
      style: style(),
      layout: { name: "preset" },
      minZoom: 0.02,
      maxZoom: 5,
      pixelRatio: 1, // the same image on every screen, and a quarter of the pixels on HiDPI
      motionBlur: false,
      selectionType: "single",
      boxSelectionEnabled: false,
    });
  }

  get viewName(): string {
    return this.view;
  }

  /** Replace the drawing. Nodes without positions are placed by a circle layout. */
  draw(view: string, nodes: NodeSpec[], edges: EdgeSpec[]): void {
    this.view = view;
    this.timeCut = null;
    const large = nodes.length > 1500;
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add(this.elements(nodes, edges, new Set()));
    });
    this.tune(large);
    const unplaced = new Set(nodes.filter((n) => n.x === undefined || n.y === undefined).map((n) => n.id));
    if (unplaced.size > 0) {
      this.cy
        .nodes()
        .filter((n) => unplaced.has(n.id()))
        .layout({ name: "circle", fit: false, animate: false })
        .run();
    }
    this.refreshColoursAndSizes();
    this.fit();
  }

  /** Everything in view, but never magnified past 1.3 (a few nodes would fill the screen). */
  fit(): void {
    this.cy.fit(undefined, 30);
    if (this.cy.zoom() > 1.3) this.cy.zoom({ level: 1.3, renderedPosition: { x: this.cy.width() / 2, y: this.cy.height() / 2 } });
    if (this.cy.nodes().length > 0 && this.cy.zoom() >= 1.3) this.cy.center();
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
    const existing = new Set(this.cy.elements().map((e) => e.id()));
    const fresh = this.elements(nodes, edges, existing);
    this.cy.batch(() => {
      this.cy.add(fresh);
    });
    this.refreshColoursAndSizes();
    this.applyTime();
    return {
      nodes: fresh.filter((e) => e.group === "nodes").map((e) => String(e.data.id)),
      edges: fresh.filter((e) => e.group === "edges").map((e) => String(e.data.id)),
    };
  }

  private tune(large: boolean): void {
    // big views: no textures of labels while panning, edges hidden while moving
    const renderer = this.cy as unknown as {
      renderer(): { textureOnViewport: boolean; hideEdgesOnViewport: boolean };
    };
    const r = renderer.renderer();
    r.textureOnViewport = large;
    r.hideEdgesOnViewport = large;
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
          color: NO_COMMUNITY,
          size: SIZE_MIN,
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

  /** Colours by community (in order of how many drawn nodes each has) and sizes by score. */
  refreshColoursAndSizes(): void {
    const nodes = this.cy.nodes().not(".identifier");
    const counts = new Map<string, number>();
    nodes.forEach((n) => {
      const c = n.data("community") as string | null;
      if (c) counts.set(c, (counts.get(c) ?? 0) + 1);
    });
    const order = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    // a community keeps its colour while the view lives (an expansion does not repaint)
    for (const [community] of order) {
      if (!this.colours.has(community)) this.colours.set(community, communityColour(this.colours.size));
    }
    this.legendEntries = order.map(([community, count]) => ({
      community,
      color: this.colours.get(community) ?? NO_COMMUNITY,
      count,
    }));
    const scores = nodes.map((n) => n.data("score") as number | null);
    const sizes = sizesFor(scores);
    this.cy.batch(() => {
      nodes.forEach((n, i) => {
        const c = n.data("community") as string | null;
        n.data("color", c ? (this.colours.get(c) ?? NO_COMMUNITY) : NO_COMMUNITY);
        n.data("size", sizes[i]);
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
    return [...dates].sort();
  }

  /** Hide ties and transfers dated after ``cut`` (null shows all). */
  setTimeCut(cut: string | null): void {
    this.timeCut = cut;
    this.applyTime();
  }

  private applyTime(): void {
    const cut = this.timeCut;
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
    return { view: this.view, nodes, edges, legend: this.legend(), timeFilter: this.timeCut };
  }

  /** Redraw exactly what a snapshot holds (its positions, classes and displayed data). */
  restore(snapshot: Snapshot): void {
    this.view = "snapshot";
    this.colours.clear();
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add([
        ...snapshot.nodes.map((n) => ({
          group: "nodes" as const,
          data: { ...n.data, id: n.id },
          position: { ...n.position },
          classes: [...n.classes, ...(n.kind ? [n.kind] : [])],
        })),
        ...snapshot.edges.map((e) => ({
          group: "edges" as const,
          data: { ...e.data, id: e.id, source: e.source, target: e.target },
          classes: [...e.classes],
        })),
      ]);
    });
    this.legendEntries = [...snapshot.legend];
    this.tune(snapshot.nodes.length > 1500);
    this.fit();
  }

  /** The whole drawing as PNG, without the selection highlight (an export shows data). */
  png(): Blob {
    const selected = this.cy.elements(":selected");
    selected.unselect();
    try {
      const bb = this.cy.elements().boundingBox();
      const side = Math.max(bb.w, bb.h, 1);
      const scale = Math.min(1.5, 4000 / side);
      return this.cy.png({ output: "blob", full: true, scale, bg: "#ffffff" });
    } finally {
      selected.select();
    }
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
    this.cy.edges().forEach((e) => {
      const d = e.data() as Record<string, unknown>;
      lines.push([
        "edge", e.id(), "", "", String(d.kind ?? ""), "", "", e.classes().join(" "),
        e.source().id(), e.target().id(), d.strength == null ? "" : String(d.strength),
        String(d.date ?? ""), String(d.label ?? ""),
      ]);
    });
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
