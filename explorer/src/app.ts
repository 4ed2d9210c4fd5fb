// The explorer: search box, views, the details and "why" panels, legend, time slider, exports.
// Every view is a function of its arguments (show(view, args)); the test hook drives the same.

import type cytoscape from "cytoscape";
import { ApiError, graphql, must } from "./api";
import { byId, clear, download, h, label, nextFrame } from "./dom";
import { Canvas, EdgeSpec, NodeSpec, Snapshot, communityClass, edgeLabel, statusText } from "./graph";
import { Key, lang, onLangChange, setLang, t, tr } from "./i18n";
import * as Q from "./queries";

export type ViewName =
  | "neighbourhood"
  | "communities"
  | "paths"
  | "referral"
  | "risk"
  | "exposure"
  | "group"
  | "snapshot";

const TABS: Array<[ViewName, Key]> = [
  ["neighbourhood", "view.neighbourhood"],
  ["communities", "view.communities"],
  ["paths", "view.paths"],
  ["referral", "view.referral"],
  ["risk", "view.risk"],
];
const TIE_KINDS = ["FAMILY", "SPOUSE", "FRIEND", "COLLEAGUE", "CLASSMATE", "BUSINESS"];
const ALGORITHMS = ["louvain", "leiden", "wcc", "label_propagation"];
const METRICS: Array<[string, string]> = [
  ["PAGERANK", "pagerank"],
  ["DEGREE", "degree"],
  ["BETWEENNESS", "betweenness"],
  ["NETWORK_VALUE", "networkValue"],
  ["REFERRAL_INFLUENCE", "referralInfluence"],
  ["PERSONALIZED_PAGERANK", "personalizedPagerank"],
  ["EXPOSURE", "exposure"],
];
export const MAX_NODES = 20_000;
const BACKBONE_ABOVE = 5_000;
const BACKBONE_TIES = 3;
const LABELLED_EDGES = 80; // more edge labels than this only clutter the drawing

interface Me {
  subject: string;
  role: string;
  rmId: string | null;
  permissions: string[];
}

type Args = Record<string, unknown>;

const str = (v: unknown, fallback = ""): string => (v == null || v === "" ? fallback : String(v));
const num = (v: unknown, fallback: number): number => {
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) && v !== "" && v != null ? n : fallback;
};
const fmt = (v: unknown, digits = 3): string =>
  typeof v === "number" ? String(Math.round(v * 10 ** digits) / 10 ** digits) : str(v, "—");
const locale = (): string => (lang() === "zh" ? "zh-CN" : "en-GB");

export class Explorer {
  readonly canvas: Canvas;
  me: Me | null = null;
  perms = new Set<string>();
  view: ViewName = "neighbourhood";
  args: Args = {};
  private drawing: Promise<void> = Promise.resolve();
  private renderDetails: () => void = () => this.emptyDetails();
  private renderWhy: () => void = () => this.emptyWhy();
  private renderList: () => void = () => undefined;
  private selectedNode: string | null = null;
  private expansions = new Map<string, { next: number | null; total: number; shown: number }>();
  private neighbourhoodFilters = { types: [] as string[], minStrength: 0 };
  private controlsFor: ViewName | null = null;
  private status: { key: Key; vars: Record<string, string | number> } | null = null;
  private errorText: string | null = null;

  constructor(private readonly root: HTMLElement) {
    this.buildChrome();
    this.canvas = new Canvas(byId("graph"));
    // the details read starts when the button goes down, and is shown when it comes up
    this.canvas.cy.on("tapstart", "node", (ev) => this.prefetch(ev.target.id() as string));
    this.canvas.cy.on("tap", "node", (ev) => {
      void this.selectNode(ev.target.id() as string);
    });
    this.canvas.cy.on("tap", "edge", (ev) => this.selectEdge(ev.target.id() as string));
    this.canvas.cy.on("dbltap", "node", (ev) => {
      void this.expand(ev.target.id() as string);
    });
    // In a large view a press on a node never reaches Cytoscape, which would redraw the whole
    // view twice (press, release) before the details could be shown: the page finds the node
    // under the pointer itself and handles the click; presses elsewhere pan and zoom as usual.
    const container = byId("graph");
    let pressed: { id: string; x: number; y: number } | null = null;
    container.addEventListener(
      "mousedown",
      (ev) => {
        const id = this.canvas.large && ev.button === 0 ? this.canvas.nodeAtClient(ev.clientX, ev.clientY) : null;
        if (!id) return;
        ev.stopPropagation();
        ev.preventDefault();
        pressed = { id, x: ev.clientX, y: ev.clientY };
        this.prefetch(id);
      },
      { capture: true },
    );
    window.addEventListener(
      "mouseup",
      (ev) => {
        const press = pressed;
        pressed = null;
        if (press && Math.hypot(ev.clientX - press.x, ev.clientY - press.y) < 5) void this.selectNode(press.id);
      },
      { capture: true },
    );
    container.addEventListener(
      "dblclick",
      (ev) => {
        const id = this.canvas.large ? this.canvas.nodeAtClient(ev.clientX, ev.clientY) : null;
        if (id) void this.expand(id);
      },
      { capture: true },
    );
    onLangChange(() => this.relabel());
  }

  // --- chrome ---------------------------------------------------------------------------------
  private buildChrome(): void {
    const tabs = h("nav", { id: "tabs", role: "tablist" });
    for (const [view, key] of TABS) {
      const button = label("button", key, { type: "button", role: "tab", "data-view": view });
      button.addEventListener("click", () => this.openTab(view));
      tabs.append(button);
    }
    const search = h("input", {
      id: "search",
      type: "search",
      autocomplete: "off",
      spellcheck: "false",
      "data-i18n-placeholder": "search.placeholder.id",
    });
    const form = h("form", { id: "search-form", role: "search" }, search, label("button", "search.go", { type: "submit" }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.search(search.value);
    });
    const langButton = label("button", "header.lang", { id: "lang", type: "button", lang: "" });
    langButton.addEventListener("click", () => setLang(lang() === "en" ? "zh" : "en"));
    const signOut = label("button", "header.signOut", { id: "sign-out", type: "button" });
    signOut.addEventListener("click", () => location.reload());
    const header = h(
      "header",
      { id: "header" },
      label("h1", "app.title"),
      form,
      tabs,
      h("span", { id: "who" }, label("span", "header.signedInAs"), " ", h("b", { id: "who-name" })),
      langButton,
      signOut,
    );
    const slider = h("input", { id: "time", type: "range", min: 0, max: 0, value: 0, step: 1 });
    slider.addEventListener("input", () => this.onTime());
    const png = label("button", "export.png", { id: "export-png", type: "button" });
    png.addEventListener("click", () => {
      void this.canvas.png().then((blob) => download(`crkg-${this.view}.png`, blob));
    });
    const csv = label("button", "export.csv", { id: "export-csv", type: "button" });
    csv.addEventListener("click", () =>
      download(`crkg-${this.view}.csv`, new Blob([this.canvas.csv()], { type: "text/csv;charset=utf-8" })),
    );
    const footer = h(
      "footer",
      { id: "footer" },
      h("label", { id: "time-box" }, label("span", "time.label"), " ", slider, " ", h("output", { id: "time-value" })),
      h("span", { id: "status", role: "status", "aria-live": "polite" }),
      png,
      csv,
    );
    const side = h(
      "aside",
      { id: "side" },
      h("section", { id: "list-box" }, h("div", { id: "list" })),
      h("section", { id: "legend-box" }, label("h2", "panel.legend"), h("ul", { id: "legend" })),
      h("section", { id: "details-box" }, label("h2", "panel.details"), h("div", { id: "details" })),
      h("section", { id: "why-box" }, label("h2", "panel.why"), h("div", { id: "why" })),
    );
    const main = h(
      "main",
      { id: "main" },
      h("aside", { id: "controls" }),
      h("div", { id: "graph-box" }, h("div", { id: "graph", "aria-label": "graph" }), h("p", { id: "hint" })),
      side,
    );
    this.root.append(header, main, footer);
    this.emptyDetails();
    this.emptyWhy();
  }

  start(me: Me): void {
    this.me = me;
    this.perms = new Set(me.permissions);
    byId("who-name").textContent = `${me.subject} (${me.role})`;
    const names = this.perms.has("read_pii_all") || this.perms.has("read_pii_own_book");
    byId("search").dataset.i18nPlaceholder = names ? "search.placeholder.name" : "search.placeholder.id";
    (byId("search") as HTMLInputElement).placeholder = t(
      names ? "search.placeholder.name" : "search.placeholder.id",
    );
    this.openTab("neighbourhood");
  }

  private relabel(): void {
    this.canvas.relabel();
    this.renderDetails();
    this.renderWhy();
    this.renderList();
    this.renderLegend();
    this.renderStatus();
    this.updateTimeLabel();
    if (this.controlsFor) this.buildControls(this.controlsFor);
  }

  private openTab(view: ViewName): void {
    document.querySelectorAll<HTMLElement>("#tabs [data-view]").forEach((b) => {
      b.setAttribute("aria-selected", String(b.dataset.view === view));
    });
    this.buildControls(view);
  }

  // --- controls --------------------------------------------------------------------------------
  private field(key: Key, input: HTMLElement): HTMLElement {
    return h("label", { class: "field" }, label("span", key), input);
  }

  private input(name: string, value: unknown, attrs: Record<string, string | number> = {}): HTMLInputElement {
    return h("input", { name, value: str(value), ...attrs });
  }

  private select(name: string, options: Array<[string, string]>, value: string): HTMLSelectElement {
    const select = h("select", { name });
    for (const [v, text] of options) select.append(h("option", { value: v, selected: v === value, text }));
    return select;
  }

  private buildControls(view: ViewName): void {
    this.controlsFor = view;
    const box = byId("controls");
    clear(box);
    const a = this.args;
    const form = h("form", { id: `controls-${view}`, class: "controls" });
    const submit = (key: Key, run: (data: FormData) => void): void => {
      const button = label("button", key, { type: "submit" });
      form.append(button);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        run(new FormData(form));
      });
    };
    const kinds = (): HTMLElement => {
      const chosen = new Set((a.types as string[] | undefined) ?? []);
      const set = h("fieldset", { class: "kinds" }, label("legend", "ctl.kinds"));
      for (const kind of TIE_KINDS) {
        set.append(
          h(
            "label",
            {},
            h("input", { type: "checkbox", name: "types", value: kind, checked: chosen.has(kind) }),
            h("span", { "data-i18n": `tie.${kind}`, text: tr("tie", kind) }),
          ),
        );
      }
      return set;
    };
    const customer = str(a.customerId);
    const metrics = METRICS.filter(([m]) => m !== "EXPOSURE" || this.perms.has("read_risk")).map(
      ([m, k]): [string, string] => [m, tr("score", k)],
    );
    if (view === "neighbourhood") {
      form.append(
        this.field("ctl.customer", this.input("customerId", customer, { required: "" })),
        this.field("ctl.depth", this.input("depth", num(a.depth, 1), { type: "number", min: 1, max: 3 })),
        kinds(),
        this.field(
          "ctl.minStrength",
          this.input("minStrength", num(a.minStrength, 0), { type: "number", min: 0, max: 1, step: 0.05 }),
        ),
        this.field(
          "ctl.maxNodes",
          this.input("maxNodes", num(a.maxNodes, 500), { type: "number", min: 1, step: 1 }),
        ),
        this.field(
          "ctl.expandStep",
          this.input("expandStep", num(a.expandStep, 25), { type: "number", min: 1, max: 100 }),
        ),
      );
      submit("ctl.draw", (d) =>
        void this.show("neighbourhood", {
          customerId: d.get("customerId"),
          depth: num(d.get("depth"), 1),
          types: d.getAll("types"),
          minStrength: num(d.get("minStrength"), 0),
          maxNodes: num(d.get("maxNodes"), 500),
          expandStep: num(d.get("expandStep"), 25),
        }),
      );
    } else if (view === "communities") {
      form.append(
        this.field("ctl.customer", this.input("customerId", customer)),
        this.field("ctl.depth", this.input("depth", num(a.depth, 2), { type: "number", min: 1, max: 3 })),
        this.field(
          "ctl.colorBy",
          this.select("colorBy", ALGORITHMS.map((x): [string, string] => [x, tr("alg", x)]), str(a.colorBy, "louvain")),
        ),
        this.field("ctl.sizeBy", this.select("sizeBy", metrics, str(a.sizeBy, "PAGERANK"))),
        this.field("ctl.community", this.input("communityId", str(a.communityId), { placeholder: "louvain:12" })),
        this.field(
          "ctl.maxNodes",
          this.input("maxNodes", num(a.maxNodes, 500), { type: "number", min: 1, step: 1 }),
        ),
      );
      submit("ctl.draw", (d) =>
        void this.show("communities", {
          customerId: str(d.get("customerId")) || undefined,
          communityId: str(d.get("communityId")) || undefined,
          depth: num(d.get("depth"), 2),
          colorBy: d.get("colorBy"),
          sizeBy: d.get("sizeBy"),
          maxNodes: num(d.get("maxNodes"), 500),
        }),
      );
    } else if (view === "paths") {
      form.append(
        this.field("ctl.from", this.input("fromId", str(a.fromId, customer))),
        this.field("ctl.to", this.input("toId", str(a.toId ?? a.toCustomerId))),
        this.field("ctl.k", this.input("k", num(a.k, 3), { type: "number", min: 1, max: 5 })),
        this.field("ctl.fromRm", this.input("fromRmId", str(a.fromRmId, this.me?.rmId ?? ""))),
      );
      submit("ctl.warmest", (d) => {
        const from = str(d.get("fromId"));
        const to = str(d.get("toId"));
        const k = num(d.get("k"), 3);
        void this.show(
          "paths",
          from ? { fromId: from, toId: to, k } : { toCustomerId: to, fromRmId: str(d.get("fromRmId")) || undefined, k },
        );
      });
    } else if (view === "referral") {
      form.append(
        this.field("ctl.product", this.input("productId", str(a.productId), { required: "" })),
        this.field("ctl.scenario", this.input("scenarioId", str(a.scenarioId))),
        this.field("ctl.howMany", this.input("first", num(a.first, 20), { type: "number", min: 1, max: 50 })),
      );
      submit("ctl.targets", (d) =>
        void this.show("referral", {
          productId: d.get("productId"),
          scenarioId: str(d.get("scenarioId")) || undefined,
          first: num(d.get("first"), 20),
        }),
      );
    } else if (view === "risk" || view === "exposure" || view === "group") {
      form.append(this.field("ctl.customer", this.input("customerId", customer)));
      form.append(this.field("ctl.hops", this.input("hops", num(a.hops, 2), { type: "number", min: 1, max: 4 })));
      form.append(
        this.field(
          "ctl.direction",
          this.select(
            "direction",
            ["OUT", "IN", "BOTH"].map((d): [string, string] => [d, tr("dir", d)]),
            str(a.direction, "OUT"),
          ),
        ),
      );
      const buttons = h("div", { class: "buttons" });
      const act = (key: Key, run: (d: FormData) => void): void => {
        const b = label("button", key, { type: "button", "data-action": key });
        b.addEventListener("click", () => run(new FormData(form)));
        buttons.append(b);
      };
      act("ctl.riskCustomer", (d) => void this.show("risk", { customerId: d.get("customerId"), hops: num(d.get("hops"), 2) }));
      act("ctl.exposure", (d) =>
        void this.show("exposure", { customerId: d.get("customerId"), hops: num(d.get("hops"), 2), direction: d.get("direction") }),
      );
      act("ctl.group", (d) => void this.show("group", { customerId: d.get("customerId") }));
      act("ctl.circles", () => void this.show("risk", { list: "circles" }));
      act("ctl.rings", () => void this.show("risk", { list: "rings" }));
      act("ctl.cycles", () => void this.show("risk", { list: "cycles" }));
      form.append(buttons);
      form.addEventListener("submit", (ev) => ev.preventDefault());
    }
    box.append(form);
  }

  // --- the hook's verbs -------------------------------------------------------------------------
  ready(): Promise<void> {
    return this.drawing;
  }

  show(view: ViewName, args: Args = {}): Promise<void> {
    const run = async (): Promise<void> => {
      this.view = view;
      this.args = { ...args };
      this.errorText = null;
      this.setStatus("status.loading");
      if (view !== "snapshot" && TABS.some(([v]) => v === view)) this.openTab(view);
      else if (view === "exposure" || view === "group") this.openTab("risk");
      try {
        await this.draw(view, args);
      } catch (error) {
        this.showError(error);
        this.renderLegend(); // of what is drawn now (nothing, after a refusal)
      }
      await nextFrame();
    };
    this.drawing = this.drawing.then(run, run);
    return this.drawing;
  }

  async search(text: string): Promise<Array<{ id: string; label: string; masked: boolean }>> {
    const query = text.trim();
    (byId("search") as HTMLInputElement).value = query;
    if (!query) return [];
    let found: Array<{ id: string; label: string; masked: boolean }> = [];
    const names = this.perms.has("read_pii_all") || this.perms.has("read_pii_own_book");
    try {
      const data = await must<{ customers: { edges: Array<{ node: Q.CustomerBrief }> } | null }>(Q.SEARCH, {
        search: query,
      });
      found = (data.customers?.edges ?? []).map((e) => {
        const name = Q.piiText(e.node.name);
        return { id: e.node.id, label: name.text, masked: name.masked };
      });
    } catch (error) {
      // a role that searches ids only is refused (BAD_REQUEST) a text that is no customer id:
      // that is "nothing found, and names cannot be searched", said by the note below
      if (names) {
        this.showError(error);
        return [];
      }
    }
    this.renderList = () => {
      const list = byId("list");
      clear(list);
      list.append(label("h2", "search.results"));
      if (found.length === 0) list.append(label("p", "search.none"));
      if (!names) list.append(label("p", "search.namesNotAllowed", { class: "note" }));
      const ul = h("ul", { class: "results" });
      for (const c of found) {
        const button = h("button", { type: "button", "data-customer": c.id }, `${c.id} `, c.label, c.masked ? this.maskedBadge() : null);
        button.addEventListener("click", () => void this.openCustomer(c.id));
        ul.append(h("li", {}, button));
      }
      list.append(ul);
    };
    this.renderList();
    if (found.length === 1) await this.openCustomer(found[0].id);
    return found;
  }

  private openCustomer(id: string): Promise<void> {
    const view = this.controlsFor ?? "neighbourhood";
    if (view === "communities") return this.show("communities", { ...this.args, customerId: id, communityId: undefined });
    if (view === "risk") return this.show("risk", { customerId: id });
    if (view === "paths") return this.show("paths", { ...this.args, toId: id });
    return this.show("neighbourhood", { customerId: id });
  }

  graph(): Snapshot & { truncated: boolean } {
    return { ...this.canvas.snapshot(), truncated: Boolean(this.args.truncated) };
  }

  // --- drawing views ----------------------------------------------------------------------------
  private async draw(view: ViewName, a: Args): Promise<void> {
    this.expansions.clear();
    this.prefetched.clear();
    this.canvas.resetColours();
    this.renderWhy = () => this.emptyWhy();
    this.renderList = () => clear(byId("list"));
    this.renderList();
    this.emptyDetails();
    this.emptyWhy();
    switch (view) {
      case "neighbourhood":
      case "communities":
        await this.drawNeighbourhood(view, a);
        break;
      case "paths":
        await this.drawPaths(a);
        break;
      case "referral":
        await this.drawReferral(a);
        break;
      case "risk":
        await this.drawRisk(a);
        break;
      case "exposure":
        await this.drawExposure(a);
        break;
      case "group":
        await this.drawGroup(a);
        break;
      case "snapshot":
        this.canvas.restore(a.graph as Snapshot);
        break;
    }
    this.afterDraw();
  }

  private afterDraw(): void {
    const cy = this.canvas.cy;
    this.setStatus("status.drawn", { nodes: cy.nodes().length, edges: this.canvas.edgeCount() });
    if (this.args.truncated) this.setStatus("status.truncated", { n: cy.nodes().length - 1 });
    const bb = this.args.backbone as { drawn: number; total: number } | undefined;
    if (bb) this.setStatus("status.backbone", { drawn: bb.drawn.toLocaleString(locale()), total: bb.total.toLocaleString(locale()), k: BACKBONE_TIES, nodes: cy.nodes().length.toLocaleString(locale()) });
    this.renderLegend();
    this.setupTime();
    const hint = byId("hint");
    hint.dataset.i18n = this.canvas.large ? "hint.large" : "hint.expand";
    hint.textContent = t(hint.dataset.i18n as Key);
  }

  private nodesFrom(columns: Q.Columns, classesOf?: (id: string) => string[]): NodeSpec[] {
    return Q.rows(columns).map((r) => ({
      id: str(r.id),
      label: str(r.label),
      masked: Boolean(r.labelMasked),
      kind: r.kind == null ? null : str(r.kind),
      community: r.community == null ? null : str(r.community),
      score: typeof r.score === "number" ? r.score : null,
      hop: typeof r.hop === "number" ? r.hop : null,
      x: typeof r.x === "number" ? r.x : undefined,
      y: typeof r.y === "number" ? r.y : undefined,
      classes: classesOf ? classesOf(str(r.id)) : [],
    }));
  }

  private tiesFrom(columns: Q.Columns, labelled: boolean, classes: string[] = []): EdgeSpec[] {
    return Q.rows(columns).map((r) => this.tieEdge(r, labelled, classes));
  }

  private tieEdge(r: Record<string, unknown>, labelled: boolean, classes: string[] = []): EdgeSpec {
    const kind = str(r.kind ?? r.kind);
    const strength = typeof r.strength === "number" ? r.strength : null;
    const parts = [`tie.${kind}`, strength == null ? "" : fmt(strength, 2)];
    return {
      source: str(r.source ?? r.fromId),
      target: str(r.target ?? r.toId),
      kind,
      strength,
      date: r.since == null ? null : str(r.since),
      label: labelled ? edgeLabel(parts) : "",
      classes: labelled ? [...classes, "labelled"] : classes,
      fields: { since: r.since ?? null, labelParts: parts },
    };
  }

  private async drawNeighbourhood(view: ViewName, a: Args): Promise<void> {
    const maxNodes = num(a.maxNodes, 500);
    if (maxNodes > MAX_NODES) {
      this.canvas.draw(view, [], []);
      throw new ApiError("TOO_LARGE", t("status.tooLarge", { max: MAX_NODES.toLocaleString(locale()) }));
    }
    const colorBy = str(a.colorBy, "louvain").toUpperCase();
    const sizeBy = str(a.sizeBy, "PAGERANK").toUpperCase();
    let answer: Q.DrawnGraph | null;
    let centre: string | null = null;
    if (view === "communities" && a.communityId && !a.customerId) {
      const data = await must<{ explorerCommunity: Q.DrawnGraph | null }>(Q.COMMUNITY_VIEW, {
        id: str(a.communityId),
        maxNodes,
        sizeBy,
      });
      answer = data.explorerCommunity;
      void this.showCommunity(str(a.communityId));
    } else {
      centre = str(a.customerId);
      const types = ((a.types as string[] | undefined) ?? []).map(String);
      this.neighbourhoodFilters = { types, minStrength: num(a.minStrength, 0) };
      const data = await must<{ explorerNeighbourhood: Q.DrawnGraph | null }>(Q.NEIGHBOURHOOD, {
        id: centre,
        depth: num(a.depth, view === "communities" ? 2 : 1),
        types: types.length ? types : null,
        minStrength: num(a.minStrength, 0),
        maxNodes,
        colorBy,
        sizeBy,
      });
      answer = data.explorerNeighbourhood;
    }
    if (!answer) throw new ApiError("NOT_FOUND", "no view");
    this.args.truncated = answer.truncated;
    const nodes = this.nodesFrom(answer.nodes, (id) => (id === centre ? ["center"] : []));
    let edges = this.tiesFrom(answer.edges, answer.edgeCount <= LABELLED_EDGES);
    if (nodes.length > BACKBONE_ABOVE) {
      // a view this large is a hairball with every tie: each customer's strongest ties
      // carry its shape, and keep it drawable
      const total = edges.length;
      edges = backbone(edges, BACKBONE_TIES);
      this.args.backbone = { drawn: edges.length, total };
    }
    this.canvas.draw(view, nodes, edges);
    await this.canvas.drawRest((done, total) =>
      this.setStatus("status.drawing", { done: done.toLocaleString(locale()), total: total.toLocaleString(locale()) }),
    );
    // the centre's details at once, except in a large view (a selection restyles it all)
    if (centre && !this.canvas.large) void this.selectNode(centre);
  }

  /** Double-click: the node's next strongest neighbours (the supernode safeguard). */
  async expand(id: string): Promise<void> {
    const node = this.canvas.cy.getElementById(id);
    if (node.empty() || node.hasClass("identifier")) return;
    const state = this.expansions.get(id);
    if (state && state.next === null) return;
    const offset = state?.next ?? 0;
    const step = num(this.args.expandStep, 25);
    const drawn = this.canvas.cy.nodes().not(".identifier").map((n) => n.id());
    const run = async (): Promise<void> => {
      try {
        const data = await must<{ explorerExpand: Q.Expansion | null }>(Q.EXPAND, {
          id,
          types: this.neighbourhoodFilters.types.length ? this.neighbourhoodFilters.types : null,
          minStrength: this.neighbourhoodFilters.minStrength,
          first: step,
          offset,
          drawn,
          colorBy: str(this.args.colorBy, "louvain").toUpperCase(),
          sizeBy: str(this.args.sizeBy, "PAGERANK").toUpperCase(),
        });
        const x = data.explorerExpand;
        if (!x) return;
        const drawnSet = new Set(drawn);
        const fresh = this.nodesFrom(x.nodes).filter((n) => !drawnSet.has(n.id));
        this.place(id, fresh);
        const labelled = this.canvas.edgeCount() + Q.rows(x.edges).length <= LABELLED_EDGES;
        const added = this.canvas.add(fresh, this.tiesFrom(x.edges, labelled, ["expandedTie"]));
        this.canvas.keepInView(added.nodes);
        const shown = (state?.shown ?? 0) + Q.rows(x.nodes).length;
        this.expansions.set(id, { next: x.nextOffset, total: x.total, shown });
        node.addClass("expanded");
        this.afterDraw();
        await this.selectNode(id);
      } catch (error) {
        this.showError(error);
      }
      await nextFrame();
    };
    this.drawing = this.drawing.then(run, run);
    return this.drawing;
  }

  /** New nodes on an arc around ``id``, facing away from the drawing's centre. */
  private place(id: string, fresh: NodeSpec[]): void {
    const cy = this.canvas.cy;
    const at = cy.getElementById(id).position();
    const bb = cy.nodes().boundingBox();
    const cx = (bb.x1 + bb.x2) / 2;
    const cyy = (bb.y1 + bb.y2) / 2;
    const away = Math.atan2(at.y - cyy, at.x - cx);
    const spread = fresh.length > 8 ? 2 * Math.PI : Math.PI;
    const radius = 90 + 6 * Math.sqrt(fresh.length) * 6;
    fresh.forEach((n, i) => {
      const angle =
        fresh.length === 1 ? away : away - spread / 2 + (spread * (i + 0.5)) / fresh.length;
      n.x = Math.round((at.x + radius * Math.cos(angle)) * 10) / 10;
      n.y = Math.round((at.y + radius * Math.sin(angle)) * 10) / 10;
    });
  }

  private async drawPaths(a: Args): Promise<void> {
    const k = num(a.k, 3);
    let paths: Q.PathAnswer[];
    if (a.fromId) {
      const data = await must<{ paths: Q.PathAnswer[] | null }>(Q.PATHS, {
        from: str(a.fromId),
        to: str(a.toId),
        k,
      });
      paths = data.paths ?? [];
    } else {
      const data = await must<{ referralPaths: Q.PathAnswer[] | null }>(Q.REFERRAL_PATHS, {
        to: str(a.toCustomerId ?? a.toId),
        rm: a.fromRmId ? str(a.fromRmId) : (this.me?.rmId ?? null),
        k,
      });
      paths = data.referralPaths ?? [];
    }
    const briefs = new Map<string, Q.CustomerBrief>();
    for (const p of paths) for (const c of p.customers ?? []) briefs.set(c.id, c);
    const pairs = new Map<string, [string, string]>();
    for (const p of paths) {
      for (let i = 0; i + 1 < p.customerIds.length; i += 1) {
        const [x, y] = [p.customerIds[i], p.customerIds[i + 1]];
        pairs.set(x < y ? `${x}|${y}` : `${y}|${x}`, [x, y]);
      }
    }
    const ties = await this.tiesFor([...pairs.values()]);
    const nodes: NodeSpec[] = [];
    const placed = new Set<string>();
    paths.forEach((p, row) => {
      p.customerIds.forEach((id, i) => {
        if (placed.has(id)) return;
        placed.add(id);
        const name = Q.piiText(briefs.get(id)?.name);
        const ends = i === 0 || i === p.customerIds.length - 1;
        nodes.push({
          id,
          label: name.text,
          masked: name.masked,
          kind: briefs.get(id)?.kind ?? null,
          x: i * 160,
          y: ends ? 0 : (row - (paths.length - 1) / 2) * 110 + (row === 0 ? 0 : 0),
          classes: ends ? ["center"] : [],
        });
      });
    });
    const edges = this.pathEdges(paths, ties);
    this.canvas.draw("paths", nodes, edges);
    this.highlightPath(paths[0]?.customerIds ?? []);
    this.renderList = () => this.listPaths(paths, ties);
    this.renderList();
    if (paths[0]) this.whyPath(paths[0], ties);
  }

  private async tiesFor(pairs: Array<[string, string]>): Promise<Map<string, Q.TieAnswer>> {
    const found = new Map<string, Q.TieAnswer>();
    for (let i = 0; i < pairs.length; i += 60) {
      const data = await must<{ explorerTies: Q.TieAnswer[] | null }>(Q.TIES, { pairs: pairs.slice(i, i + 60) });
      for (const tie of data.explorerTies ?? []) {
        found.set(pairKey(tie.fromId, tie.toId), tie);
      }
    }
    return found;
  }

  private pathEdges(paths: Q.PathAnswer[], ties: Map<string, Q.TieAnswer>): EdgeSpec[] {
    const edges: EdgeSpec[] = [];
    const seen = new Set<string>();
    for (const p of paths) {
      for (let i = 0; i + 1 < p.customerIds.length; i += 1) {
        const key = pairKey(p.customerIds[i], p.customerIds[i + 1]);
        if (seen.has(key)) continue;
        seen.add(key);
        const tie = ties.get(key);
        if (!tie) continue;
        edges.push({ ...this.tieEdge(tie as unknown as Record<string, unknown>, true), id: `tie:${key}` });
      }
    }
    return edges;
  }

  private highlightPath(ids: string[]): void {
    const cy = this.canvas.cy;
    cy.batch(() => {
      cy.elements(".path").removeClass("path");
      ids.forEach((id, i) => {
        cy.getElementById(id).addClass("path");
        if (i + 1 < ids.length) cy.getElementById(`tie:${pairKey(id, ids[i + 1])}`).addClass("path");
      });
    });
  }

  private listPaths(paths: Q.PathAnswer[], ties: Map<string, Q.TieAnswer>): void {
    const list = byId("list");
    clear(list);
    list.append(label("h2", "list.paths"));
    if (paths.length === 0) list.append(label("p", "list.noPaths"));
    const ol = h("ol", { class: "paths" });
    paths.forEach((p) => {
      const steps = p.customerIds
        .map((id, i) => {
          if (i === 0) return id;
          const tie = ties.get(pairKey(p.customerIds[i - 1], id));
          return ` —${tie ? `${tr("tie", tie.kind)} ${fmt(tie.strength, 2)}` : "?"}→ ${id}`;
        })
        .join("");
      const button = h("button", { type: "button", class: "path-item", "data-path": p.customerIds.join(",") },
        h("b", { text: `${t("field.strength")} ${fmt(p.strength, 4)}` }), " ", steps);
      button.addEventListener("click", () => {
        this.highlightPath(p.customerIds);
        this.whyPath(p, ties);
      });
      ol.append(h("li", {}, button));
    });
    list.append(ol);
  }

  private whyPath(p: Q.PathAnswer, ties: Map<string, Q.TieAnswer>): void {
    this.renderWhy = () => {
      const why = byId("why");
      clear(why);
      why.dataset.why = "path";
      why.append(label("p", "why.path"));
      const table = h("table", { class: "kv" });
      for (let i = 0; i + 1 < p.customerIds.length; i += 1) {
        const tie = ties.get(pairKey(p.customerIds[i], p.customerIds[i + 1]));
        table.append(
          h("tr", {}, h("td", { text: `${p.customerIds[i]} → ${p.customerIds[i + 1]}` }),
            h("td", { text: tie ? `${tr("tie", tie.kind)} ${fmt(tie.strength, 3)}` : "—" })),
        );
      }
      table.append(h("tr", {}, h("th", { text: t("field.strength") }), h("th", { text: fmt(p.strength, 4) })));
      why.append(table);
    };
    this.renderWhy();
  }

  private async briefs(ids: string[]): Promise<Map<string, Q.CustomerBrief>> {
    const found = new Map<string, Q.CustomerBrief>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 15) {
      const chunk = unique.slice(i, i + 15);
      const answer = await graphql<Record<string, Q.CustomerBrief | null>>(Q.CUSTOMER_BRIEFS(chunk));
      for (const c of Object.values(answer.data ?? {})) if (c) found.set(c.id, c);
    }
    return found;
  }

  private async drawReferral(a: Args): Promise<void> {
    interface Target {
      rank: number;
      score: number;
      reasons: Record<string, number | null>;
      customer: Q.CustomerBrief;
      introducers: Array<{ customerId: string; score: number; pathIds: string[]; customer: Q.CustomerBrief | null }>;
      riskFlags?: unknown;
    }
    const data = await must<{ referralTargets: Target[] | null }>(Q.REFERRAL_TARGETS, {
      product: str(a.productId),
      scenario: a.scenarioId ? str(a.scenarioId) : null,
      first: num(a.first, 20),
    });
    const targets = data.referralTargets ?? [];
    const pathIds = targets.flatMap((x) => x.introducers.slice(0, 1).flatMap((i) => i.pathIds));
    const briefs = new Map<string, Q.CustomerBrief>();
    for (const x of targets) {
      briefs.set(x.customer.id, x.customer);
      for (const i of x.introducers) if (i.customer) briefs.set(i.customer.id, i.customer);
    }
    const missing = pathIds.filter((id) => !briefs.has(id));
    for (const [id, c] of await this.briefs(missing)) briefs.set(id, c);
    const pairs: Array<[string, string]> = [];
    for (const x of targets) {
      const path = x.introducers[0]?.pathIds ?? [];
      for (let i = 0; i + 1 < path.length; i += 1) pairs.push([path[i], path[i + 1]]);
    }
    const ties = await this.tiesFor(pairs);
    const nodes: NodeSpec[] = [];
    const placed = new Set<string>();
    targets.forEach((x, row) => {
      const path = x.introducers[0]?.pathIds ?? [x.customer.id];
      const width = path.length - 1;
      path.forEach((id, i) => {
        if (placed.has(id)) return;
        placed.add(id);
        const name = Q.piiText(briefs.get(id)?.name);
        nodes.push({
          id,
          label: name.text,
          masked: name.masked,
          kind: briefs.get(id)?.kind ?? null,
          // the target on the right, its introducer on the left
          x: (width - i) * -170 + 340,
          y: row * 80,
          classes: i === 0 ? ["target"] : i === width ? ["introducer"] : [],
          fields: i === 0 ? { rank: x.rank, targetScore: x.score } : {},
        });
      });
    });
    const paths = targets.map((x) => ({
      customerIds: x.introducers[0]?.pathIds ?? [x.customer.id],
      customers: null,
      hops: 0,
      strength: 0,
      cost: 0,
    }));
    this.canvas.draw("referral", nodes, this.pathEdges(paths, ties));
    const select = (x: Target | undefined): void => {
      if (!x) return;
      this.highlightPath(x.introducers[0]?.pathIds ?? [x.customer.id]);
      this.whyTarget(x);
    };
    this.renderList = () => {
      const list = byId("list");
      clear(list);
      list.append(label("h2", "list.targets"));
      if (targets.length === 0) list.append(label("p", "list.noTargets"));
      // a plain list: each entry starts with its rank (#1), an ordered list would number it twice
      const ol = h("ul", { class: "targets" });
      for (const x of targets) {
        const name = Q.piiText(x.customer.name);
        const intro = x.introducers[0];
        const introName = Q.piiText(intro?.customer?.name);
        const b = h("button", { type: "button", class: "target-item", "data-target": x.customer.id },
          h("b", { text: `#${x.rank} ${x.customer.id} ` }), name.text, name.masked ? this.maskedBadge() : null,
          intro ? h("span", { class: "muted", text: ` ← ${t("field.introducer")} ${intro.customerId} ${introName.text}` }) : null,
          h("span", { class: "muted", text: ` ${t("field.score")} ${fmt(x.score, 3)}` }));
        b.addEventListener("click", () => select(x));
        ol.append(h("li", {}, b));
      }
      list.append(ol);
    };
    this.renderList();
    const chosen = targets.find((x) => x.customer.id === str(a.target)) ?? targets[0];
    select(chosen);
  }

  private whyTarget(x: {
    rank: number;
    score: number;
    reasons: Record<string, number | null>;
    customer: Q.CustomerBrief;
    introducers: Array<{ customerId: string; score: number; pathIds: string[] }>;
    riskFlags?: unknown;
  }): void {
    this.renderWhy = () => {
      const why = byId("why");
      clear(why);
      why.dataset.why = "target";
      why.append(h("p", { text: `#${x.rank} ${x.customer.id} — ${t("field.score")} ${fmt(x.score, 4)}` }));
      why.append(label("p", "why.target"));
      const table = h("table", { class: "kv reasons" });
      const reasons: Array<[Key, string]> = [
        ["why.adamicAdar", "adamicAdar"],
        ["why.commonNeighbors", "commonNeighbors"],
        ["why.resourceAllocation", "resourceAllocation"],
        ["why.adoptionRate", "adoptionRate"],
        ["why.tieStrength", "tieStrength"],
        ["why.introducerInfluence", "introducerInfluence"],
      ];
      for (const [key, field] of reasons) {
        table.append(h("tr", {}, label("td", key), h("td", { text: fmt(x.reasons?.[field], 3) })));
      }
      why.append(table);
      const intro = x.introducers[0];
      if (intro) {
        why.append(h("p", {}, label("b", "field.introducer"), ` ${intro.customerId}: ${intro.pathIds.join(" ← ")}`));
      }
      if (x.riskFlags) why.append(h("p", {}, label("b", "why.riskFlags"), ` ${JSON.stringify(x.riskFlags)}`));
    };
    this.renderWhy();
  }

  // --- risk --------------------------------------------------------------------------------------
  private async drawRisk(a: Args): Promise<void> {
    if (a.list) {
      await this.drawLinkageList(str(a.list));
      return;
    }
    if (a.linkageId) {
      const linkage = await this.linkage(str(a.linkageId));
      const { nodes, edges } = this.linkageElements(linkage, new Map());
      this.canvas.draw("risk", nodes, edges);
      this.circleLayout(linkage);
      this.whyLinkage(linkage);
      return;
    }
    const centre = str(a.customerId);
    const hops = num(a.hops, 2);
    interface Around {
      customer: (Q.CustomerBrief & { riskLinkages: Array<{ linkageId: string; kind: string }> | null }) | null;
      explorerGuarantees: Q.RiskEdgeAnswer[] | null;
    }
    const data = await must<Around>(Q.RISK_AROUND, { id: centre, hops });
    const guarantees = data.explorerGuarantees ?? [];
    const linkages: Linkage[] = [];
    for (const l of data.customer?.riskLinkages ?? []) linkages.push(await this.linkage(l.linkageId));
    const ids = new Set<string>([centre]);
    for (const g of guarantees) {
      ids.add(g.fromId);
      ids.add(g.toId);
    }
    const briefs = await this.briefs([...ids].filter((i) => !linkages.some((l) => l.members.some((m) => m.customer.id === i))));
    if (data.customer) briefs.set(centre, data.customer);
    const nodes: NodeSpec[] = [];
    const edges: EdgeSpec[] = [];
    const linkageNodes = new Map<string, NodeSpec>();
    const linkageEdgeKeys = new Set<string>();
    for (const l of linkages) {
      const part = this.linkageElements(l, linkageNodes);
      for (const n of part.nodes) linkageNodes.set(n.id, n);
      for (const e of part.edges) {
        edges.push(e);
        linkageEdgeKeys.add(`${e.source}>${e.target}:${e.kind}`);
      }
    }
    nodes.push(...linkageNodes.values());
    for (const id of ids) {
      if (linkageNodes.has(id)) continue;
      const name = Q.piiText(briefs.get(id)?.name);
      nodes.push({ id, label: name.text, masked: name.masked, kind: briefs.get(id)?.kind ?? null });
    }
    const centreNode = nodes.find((n) => n.id === centre);
    if (centreNode) centreNode.classes = [...(centreNode.classes ?? []), "center"];
    for (const g of guarantees) {
      // a guarantee that is also a circle's step is drawn once, as the circle's
      if (linkageEdgeKeys.has(`${g.fromId}>${g.toId}:GUARANTEES`)) continue;
      edges.push(this.riskEdge(g, []));
    }
    this.placeAround(nodes, linkages);
    this.canvas.draw("risk", nodes, edges);
    this.settle(linkages.flatMap((l) => [...l.members.map((m) => m.customer.id), ...l.identifiers.map((i) => i.key)]));
    this.renderList = () => this.listLinkages(linkages.map((l) => ({ id: l.id, kind: l.kind, size: l.size })));
    this.renderList();
    if (linkages[0]) this.whyLinkage(linkages[0]);
  }

  private async linkage(id: string): Promise<Linkage> {
    const data = await must<{ explorerLinkage: Linkage | null }>(Q.LINKAGE, { id });
    if (!data.explorerLinkage) throw new ApiError("NOT_FOUND", id);
    return data.explorerLinkage;
  }

  private linkageClass(kind: string): string {
    return (
      { GUARANTEE_CIRCLE: "circle", IDENTIFIER_RING: "ring", FUND_CYCLE: "cycle", CONTROL_GROUP: "group" }[kind] ??
      "linkage"
    );
  }

  private riskEdge(e: Q.RiskEdgeAnswer, classes: string[]): EdgeSpec {
    const parts: string[] = [];
    if (e.order != null) parts.push(`#${e.order}`);
    if (e.kind === "HOLDS_SHARES" && e.pct != null) parts.push(`${fmt(e.pct, 2)}%`);
    if (e.amount != null) parts.push(Q.moneyText(e.amount, locale()));
    if (e.kind === "TRANSFERRED_TO" && e.at) parts.push(e.at.slice(0, 16).replace("T", " "));
    return {
      source: e.fromId,
      target: e.toId,
      kind: e.kind,
      strength: 0.8,
      date: e.kind === "TRANSFERRED_TO" && e.at ? e.at : null,
      label: edgeLabel(parts),
      classes: [...classes, "labelled", ...(e.kind === "USES" ? [] : ["directed"])],
      fields: { amount: e.amount ?? null, pct: e.pct ?? null, at: e.at ?? null, order: e.order ?? null, labelParts: parts },
    };
  }

  private linkageElements(l: Linkage, already: Map<string, NodeSpec>): { nodes: NodeSpec[]; edges: EdgeSpec[] } {
    const cls = this.linkageClass(l.kind);
    const nodes: NodeSpec[] = [];
    for (const m of l.members) {
      const previous = already.get(m.customer.id);
      if (previous) {
        previous.classes = [...new Set([...(previous.classes ?? []), cls, `linkage-${safe(l.id)}`])];
        continue;
      }
      const name = Q.piiText(m.customer.name);
      nodes.push({
        id: m.customer.id,
        label: name.text,
        masked: name.masked,
        kind: m.customer.kind,
        classes: [cls, `linkage-${safe(l.id)}`],
        fields: { position: m.position, role: m.role },
      });
    }
    for (const i of l.identifiers) {
      nodes.push({
        id: i.key,
        label: `${i.kind} ${i.key.split(":").pop()?.slice(0, 8) ?? ""}…`,
        kind: "IDENTIFIER",
        classes: ["identifier", cls, `linkage-${safe(l.id)}`],
        fields: { identifierKind: i.kind, key: i.key },
      });
    }
    // only the structure's own steps carry its class (a cycle's numbered transfers, a
    // circle's guarantees in member order, a group's shareholdings, a ring's uses)
    const edges = l.edges.map((e) =>
      this.riskEdge(e, l.kind === "FUND_CYCLE" || l.kind === "GUARANTEE_CIRCLE" ? (e.order != null ? [cls] : []) : [cls]),
    );
    return { nodes, edges };
  }

  private circleLayout(l: Linkage): void {
    const cy = this.canvas.cy;
    const members = cy.nodes().not(".identifier");
    members.layout({ name: "circle", fit: false, animate: false, radius: 60 + 30 * members.length } as cytoscape.LayoutOptions).run();
    cy.nodes(".identifier").positions(() => ({ x: members.length ? (members.boundingBox().x1 + members.boundingBox().x2) / 2 : 0, y: members.length ? (members.boundingBox().y1 + members.boundingBox().y2) / 2 : 0 }));
    this.canvas.fit();
    void l;
  }

  /** Each linkage on a circle of its own (members in their order, a shared identifier in the
   *  middle), side by side; everything else starts on a wide ring around them. */
  private placeAround(nodes: NodeSpec[], linkages: Linkage[]): void {
    const at = new Map<string, { x: number; y: number }>();
    linkages.forEach((l, index) => {
      const cx = index * 380;
      const radius = 50 + 18 * l.members.length;
      l.members.forEach((m, i) => {
        if (at.has(m.customer.id)) return;
        const angle = (2 * Math.PI * i) / Math.max(l.members.length, 1) - Math.PI / 2;
        at.set(m.customer.id, { x: Math.round(cx + radius * Math.cos(angle)), y: Math.round(radius * Math.sin(angle)) });
      });
      for (const i of l.identifiers) at.set(i.key, { x: cx, y: 0 });
    });
    const rest = nodes.filter((n) => !at.has(n.id));
    const width = Math.max(1, linkages.length) * 380;
    rest.forEach((n, i) => {
      const angle = (2 * Math.PI * i) / Math.max(rest.length, 1);
      at.set(n.id, { x: Math.round(width / 2 - 190 + (width / 2 + 260) * Math.cos(angle)), y: Math.round(320 * Math.sin(angle)) });
    });
    for (const n of nodes) {
      const p = at.get(n.id);
      if (p) {
        n.x = p.x;
        n.y = p.y;
      }
    }
  }

  /** A force-directed pass (Cytoscape's cose, from the positions given, so it is repeatable)
   *  that keeps ``fixed`` (the structures' own circles) where they are. */
  private settle(fixed: string[]): void {
    const cy = this.canvas.cy;
    const locked = cy.collection();
    for (const id of fixed) locked.merge(cy.getElementById(id));
    locked.lock();
    cy.layout({
      name: "cose",
      randomize: false,
      animate: false,
      fit: false,
      nodeRepulsion: () => 6000,
      idealEdgeLength: () => 110,
      numIter: 600,
    } as cytoscape.LayoutOptions).run();
    locked.unlock();
    this.canvas.fit();
  }

  private concentric(centre: string): void {
    const cy = this.canvas.cy;
    const root = cy.getElementById(centre);
    const depth = new Map<string, number>();
    if (!root.empty()) {
      cy.elements().bfs({
        roots: root,
        directed: false,
        visit: (v, _e, _u, _i, d) => {
          depth.set(v.id(), d);
        },
      });
    }
    const deepest = Math.max(0, ...depth.values());
    cy.layout({
      name: "concentric",
      fit: false,
      animate: false,
      minNodeSpacing: 40,
      concentric: (n: cytoscape.NodeSingular) => deepest + 1 - (depth.get(n.id()) ?? deepest + 1),
      levelWidth: () => 1,
    } as cytoscape.LayoutOptions).run();
    this.canvas.fit();
  }

  private async drawLinkageList(kind: string): Promise<void> {
    const query = Q.LINKAGE_LISTS[kind as keyof typeof Q.LINKAGE_LISTS];
    if (!query) throw new ApiError("BAD_REQUEST", `unknown list ${kind}`);
    const data = await must<Record<string, Array<{ id: string; kind: string; size?: number; length?: number }> | null>>(query);
    const found = Object.values(data)[0] ?? [];
    const linkageKind = { circles: "GUARANTEE_CIRCLE", rings: "IDENTIFIER_RING", cycles: "FUND_CYCLE" }[kind] ?? kind;
    const items = found.map((x) => ({ id: x.id, kind: linkageKind, size: x.size ?? x.length ?? 0 }));
    // draw them all side by side: each structure on its own circle
    const nodes: NodeSpec[] = [];
    const edges: EdgeSpec[] = [];
    const linkages: Linkage[] = [];
    for (const item of items.slice(0, 12)) linkages.push(await this.linkage(item.id));
    const seen = new Map<string, NodeSpec>();
    linkages.forEach((l, index) => {
      const part = this.linkageElements(l, seen);
      const count = part.nodes.filter((n) => n.kind !== "IDENTIFIER").length;
      const radius = 40 + 14 * count;
      const cx = (index % 4) * 420;
      const cy = Math.floor(index / 4) * 420;
      let i = 0;
      for (const n of part.nodes) {
        if (n.kind === "IDENTIFIER") {
          n.x = cx;
          n.y = cy;
        } else {
          const angle = (2 * Math.PI * i) / Math.max(count, 1) - Math.PI / 2;
          n.x = Math.round(cx + radius * Math.cos(angle));
          n.y = Math.round(cy + radius * Math.sin(angle));
          i += 1;
        }
        seen.set(n.id, n);
        nodes.push(n);
      }
      edges.push(...part.edges);
    });
    this.canvas.draw("risk", nodes, edges);
    this.renderList = () => this.listLinkages(items);
    this.renderList();
    if (linkages[0]) this.whyLinkage(linkages[0]);
  }

  private listLinkages(items: Array<{ id: string; kind: string; size: number }>): void {
    const list = byId("list");
    clear(list);
    list.append(label("h2", "list.linkages"));
    if (items.length === 0) list.append(label("p", "list.none"));
    const ul = h("ul", { class: "linkages" });
    for (const item of items) {
      const b = h("button", { type: "button", "data-linkage": item.id },
        `${tr("linkage", item.kind)} · ${t("field.size")} ${item.size}`);
      b.addEventListener("click", () => void this.show("risk", { linkageId: item.id }));
      ul.append(h("li", {}, b));
    }
    list.append(ul);
  }

  private whyLinkage(l: Linkage): void {
    this.renderWhy = () => {
      const why = byId("why");
      clear(why);
      why.dataset.why = l.kind;
      const key: Key =
        l.kind === "GUARANTEE_CIRCLE" ? "why.circle" : l.kind === "IDENTIFIER_RING" ? "why.ring" : l.kind === "FUND_CYCLE" ? "why.cycle" : "why.group";
      why.append(label("p", key));
      const table = h("table", { class: "kv" });
      const steps = [...l.edges].sort((x, y) => (x.order ?? 1e9) - (y.order ?? 1e9));
      for (const e of steps) {
        if (e.kind === "USES") continue;
        const value =
          e.kind === "HOLDS_SHARES" ? `${fmt(e.pct, 2)}%` : Q.moneyText(e.amount, locale());
        table.append(
          h("tr", {}, h("td", { text: e.order != null ? `#${e.order}` : "" }),
            h("td", { text: `${e.fromId} → ${e.toId}` }),
            h("td", { text: `${tr("rel", e.kind)} ${value}${e.at ? ` · ${e.at.slice(0, 16).replace("T", " ")}` : ""}` })),
        );
      }
      for (const i of l.identifiers) {
        table.append(h("tr", {}, h("td", { text: i.kind }), h("td", { text: i.key }), h("td", { text: i.customerIds.join(", ") })));
      }
      why.append(table);
      if (l.amount != null) why.append(h("p", {}, label("b", "field.amount"), ` ${Q.moneyText(l.amount, locale())}`));
    };
    this.renderWhy();
  }

  private async drawExposure(a: Args): Promise<void> {
    interface ExposureAnswer {
      exposure: {
        total: unknown;
        byHop: unknown[];
        partyCount: number;
        truncated: boolean;
        customer: Q.CustomerBrief;
        parties: Array<{ hop: number; amount: unknown; weightedAmount: unknown; customer: Q.CustomerBrief }>;
      } | null;
      explorerGuarantees: Q.RiskEdgeAnswer[] | null;
    }
    const centre = str(a.customerId);
    const data = await must<ExposureAnswer>(Q.EXPOSURE, {
      id: centre,
      hops: num(a.hops, 2),
      direction: str(a.direction, "OUT"),
    });
    const x = data.exposure;
    if (!x) throw new ApiError("NOT_FOUND", centre);
    const nodes: NodeSpec[] = [];
    const c = Q.piiText(x.customer.name);
    nodes.push({ id: centre, label: c.text, masked: c.masked, kind: x.customer.kind, classes: ["center"], hop: 0 });
    for (const p of x.parties) {
      const name = Q.piiText(p.customer.name);
      nodes.push({
        id: p.customer.id,
        label: name.text,
        masked: name.masked,
        kind: p.customer.kind,
        hop: p.hop,
        score: Q.moneyNumber(p.weightedAmount),
        fields: { exposureAmount: p.amount, weightedAmount: p.weightedAmount },
      });
    }
    const ids = new Set(nodes.map((n) => n.id));
    const edges = (data.explorerGuarantees ?? [])
      .filter((g) => ids.has(g.fromId) && ids.has(g.toId))
      .map((g) => this.riskEdge(g, []));
    this.canvas.draw("exposure", nodes, edges);
    this.concentric(centre);
    this.renderWhy = () => {
      const why = byId("why");
      clear(why);
      why.dataset.why = "exposure";
      why.append(label("p", "why.exposure"));
      const table = h("table", { class: "kv" });
      table.append(h("tr", {}, label("th", "field.total"), h("th", { text: Q.moneyText(x.total, locale()) })));
      x.byHop.forEach((v, i) =>
        table.append(h("tr", {}, h("td", { text: `${t("field.hops")} ${i + 1}` }), h("td", { text: Q.moneyText(v, locale()) }))),
      );
      table.append(h("tr", {}, label("td", "field.parties"), h("td", { text: String(x.partyCount) })));
      why.append(table);
    };
    this.renderWhy();
  }

  private async drawGroup(a: Args): Promise<void> {
    interface GroupAnswer {
      relatedPartyGroup: {
        id: string;
        size: number;
        controller: Q.CustomerBrief | null;
        members: Array<{ position: number | null; role: string | null; customer: Q.CustomerBrief }>;
        shareholdings: Array<{ holderId: string; companyId: string; pct: number }>;
      } | null;
    }
    const data = await must<GroupAnswer>(Q.GROUP, { id: str(a.customerId) });
    const g = data.relatedPartyGroup;
    if (!g) {
      this.canvas.draw("group", [], []);
      throw new ApiError("NOT_FOUND", `${str(a.customerId)}: no related-party group`);
    }
    const nodes: NodeSpec[] = g.members.map((m) => {
      const name = Q.piiText(m.customer.name);
      return {
        id: m.customer.id,
        label: name.text,
        masked: name.masked,
        kind: m.customer.kind,
        classes: ["group", ...(m.role === "CONTROLLER" ? ["center"] : [])],
        fields: { role: m.role },
      };
    });
    const edges = g.shareholdings.map((s) =>
      this.riskEdge({ fromId: s.holderId, toId: s.companyId, kind: "HOLDS_SHARES", pct: s.pct }, ["group"]),
    );
    this.canvas.draw("group", nodes, edges);
    this.canvas.cy.layout({ name: "breadthfirst", directed: true, roots: this.canvas.cy.nodes(".center"), spacingFactor: 1.2, animate: false } as cytoscape.LayoutOptions).run();
    this.canvas.fit();
    this.renderWhy = () => {
      const why = byId("why");
      clear(why);
      why.dataset.why = "group";
      why.append(label("p", "why.group"));
      const table = h("table", { class: "kv" });
      for (const s of g.shareholdings) {
        table.append(h("tr", {}, h("td", { text: `${s.holderId} → ${s.companyId}` }), h("td", { text: `${fmt(s.pct, 2)}%` })));
      }
      why.append(table);
    };
    this.renderWhy();
  }

  // --- communities -----------------------------------------------------------------------------
  private renderLegend(): void {
    const legend = byId("legend");
    clear(legend);
    for (const entry of this.canvas.legend()) {
      const swatch = h("span", { class: "swatch", "data-color": entry.color });
      swatch.style.backgroundColor = entry.color; // CSSOM, which the CSP allows
      const b = h("button", { type: "button", "data-community": entry.community, class: communityClass(entry.community) },
        swatch, ` ${entry.community} (${entry.count})`);
      b.addEventListener("click", () => void this.showCommunity(entry.community));
      legend.append(h("li", {}, b));
    }
    byId("legend-box").hidden = this.canvas.legend().length === 0;
  }

  private async showCommunity(id: string): Promise<void> {
    interface Profile {
      community: {
        id: string;
        algorithm: string;
        size: number;
        internalTies: number | null;
        density: number | null;
        tierMix: Record<string, number> | null;
        productPenetration: Record<string, number> | null;
        dominantScenarios: Array<{ scenarioId: string; members: number }>;
        centralMembers: Q.CustomerBrief[];
      } | null;
    }
    let profile: Profile["community"] = null;
    try {
      profile = (await must<Profile>(Q.COMMUNITY_PROFILE, { id })).community;
    } catch (error) {
      this.showError(error);
      return;
    }
    const p = profile;
    if (!p) return;
    this.renderWhy = () => {
      const why = byId("why");
      clear(why);
      why.dataset.why = "community";
      why.dataset.community = p.id;
      why.append(h("h3", { text: `${tr("alg", p.algorithm)} ${p.id}` }));
      const table = h("table", { class: "kv" });
      const row = (key: Key, value: string): void => {
        table.append(h("tr", {}, label("td", key), h("td", { text: value })));
      };
      row("field.size", String(p.size));
      row("field.internalTies", str(p.internalTies, "—"));
      row("field.density", fmt(p.density, 4));
      row("field.tierMix", Object.entries(p.tierMix ?? {}).map(([k, v]) => `${k} ${v}`).join(", ") || "—");
      row(
        "field.penetration",
        Object.entries(p.productPenetration ?? {}).slice(0, 5).map(([k, v]) => `${k} ${Math.round(Number(v) * 100)}%`).join(", ") || "—",
      );
      row("field.dominantScenarios", p.dominantScenarios.map((s) => `${s.scenarioId} (${s.members})`).join(", ") || "—");
      row("field.centralMembers", p.centralMembers.map((c) => `${c.id} ${Q.piiText(c.name).text}`).join(", ") || "—");
      why.append(table);
    };
    this.renderWhy();
  }

  // --- details and why of a customer ------------------------------------------------------------
  private emptyDetails(): void {
    const details = byId("details");
    clear(details);
    delete details.dataset.loaded;
    details.append(label("p", "panel.nothing", { class: "muted" }));
    this.renderDetails = () => this.emptyDetails();
  }

  private emptyWhy(): void {
    const why = byId("why");
    clear(why);
    delete why.dataset.why;
    why.append(label("p", "panel.noWhy", { class: "muted" }));
  }

  private maskedBadge(): HTMLElement {
    return label("span", "badge.masked", { class: "badge masked" });
  }

  /** The details read of a customer, started at the press (tapstart), used at the click. */
  private prefetched = new Map<string, Promise<{ data: { customer: CustomerDetails | null } | null; errors: Array<{ message: string; extensions?: { code?: string } }> }>>();

  prefetch(id: string): void {
    const node = this.canvas.cy.getElementById(id);
    if (node.empty() || node.hasClass("identifier") || this.prefetched.has(id)) return;
    this.prefetched.set(id, graphql<{ customer: CustomerDetails | null }>(Q.customerDetails(this.perms), { id }));
  }

  private highlight(id: string): void {
    // after the details are drawn: restyling a large view takes a frame of its own
    requestAnimationFrame(() => {
      if (this.selectedNode !== id) return;
      const node = this.canvas.cy.getElementById(id);
      this.canvas.cy.elements(":selected").not(node).unselect();
      node.select();
    });
  }

  async selectNode(id: string): Promise<void> {
    this.selectedNode = id;
    const node = this.canvas.cy.getElementById(id);
    if (node.empty()) return;
    if (node.hasClass("identifier")) {
      this.highlight(id);
      const d = node.data() as Record<string, unknown>;
      this.renderDetails = () => {
        const details = byId("details");
        clear(details);
        details.dataset.loaded = id;
        details.append(
          h("table", { class: "kv" },
            h("tr", {}, label("td", "field.kind"), h("td", { text: `${t("node.identifier")} ${str(d.identifierKind)}` })),
            h("tr", {}, label("td", "field.id"), h("td", { text: str(d.key) }))),
        );
      };
      this.renderDetails();
      return;
    }
    const details = byId("details");
    details.dataset.loading = id;
    let answer: { customer: CustomerDetails | null };
    try {
      this.prefetch(id);
      const pending = this.prefetched.get(id);
      this.prefetched.delete(id);
      if (!pending) throw new ApiError("NOT_FOUND", id);
      const result = await pending;
      if (!result.data?.customer) {
        const first = result.errors[0];
        throw new ApiError(String(first?.extensions?.code ?? "NOT_FOUND"), first?.message ?? id);
      }
      answer = { customer: result.data.customer };
    } catch (error) {
      this.showError(error);
      return;
    }
    if (this.selectedNode !== id) return; // another node was clicked meanwhile
    const c = answer.customer as CustomerDetails;
    // scores as plain numbers (networkValue comes as { value masked }, exposure as money)
    if (c.scores) {
      c.scores = Object.fromEntries(Object.entries(c.scores).map(([k, v]) => [k, Q.scoreNumber(v)]));
    }
    this.renderDetails = () => this.customerPanel(c);
    this.renderDetails();
    this.highlight(id);
    this.whyScores(c);
    // the why panel's PageRank explanation is a heavier read: after the details are shown
    void graphql<{ customer: Pick<CustomerDetails, "influenceExplanation"> | null }>(Q.INFLUENCE, { id }).then(
      (result) => {
        if (this.selectedNode !== id || !result.data?.customer) return;
        c.influenceExplanation = result.data.customer.influenceExplanation;
        const box = document.getElementById("why-detail");
        if (box?.dataset.score === "pagerank") this.explainScore(c, "pagerank");
      },
      () => undefined,
    );
  }

  private customerPanel(c: CustomerDetails): void {
    const details = byId("details");
    clear(details);
    const table = h("table", { class: "kv" });
    const row = (key: Key, field: string, value: Node | string): void => {
      table.append(h("tr", { "data-field": field }, label("td", key), h("td", {}, value)));
    };
    const pii = (key: Key, field: string, value: unknown): void => {
      const v = Q.piiText(value);
      const cell = h("span", {}, v.text || "—", v.masked ? " " : "", v.masked ? this.maskedBadge() : null);
      row(key, field, cell);
    };
    row("field.id", "id", c.id);
    pii("field.name", "name", c.name);
    row("field.kind", "kind", tr("kind", str(c.kind)));
    pii("field.phone", "phone", c.phone);
    pii("field.idNumber", "idNumber", c.idNumber);
    pii("field.email", "email", c.email);
    row("field.city", "city", str(c.city, "—"));
    row("field.branch", "branchId", str(c.branchId, "—"));
    const figure = (key: Key, field: string, text: string, value: unknown): void => {
      const masked = Q.isMasked(value);
      row(key, field, h("span", {}, text, masked ? " " : "", masked ? this.maskedBadge() : null));
    };
    figure("field.aum", "aum", Q.moneyText(c.aum, locale()), c.aum);
    const rating = c.riskRating;
    figure("field.riskRating", "riskRating", str(rating?.value, "—"), rating);
    row("field.consent", "consentMarketing", c.consentMarketing ? t("field.yes") : t("field.no"));
    row("field.tier", "tier", str(c.tier, "—"));
    row("field.lifecycle", "lifecycleStage", str(c.lifecycleStage, "—"));
    row("field.rm", "relationshipManager", c.relationshipManager ? `${c.relationshipManager.id} ${c.relationshipManager.name}` : "—");
    row("field.managedByYou", "managedByYou", c.managedByYou ? t("field.yes") : t("field.no"));
    row("field.products", "products", (c.products ?? []).map((p) => `${p.name} (${p.productId})`).join(", ") || "—");
    row("field.scenarios", "scenarios", (c.scenarios ?? []).map((s) => `${s.name} (${s.scenarioId})`).join(", ") || "—");
    const communities = h("span", {});
    for (const m of c.communities ?? []) {
      const b = h("button", { type: "button", class: "link", "data-community": m.communityId, text: m.communityId });
      b.addEventListener("click", () => void this.showCommunity(m.communityId));
      communities.append(b, " ");
    }
    row("field.communities", "communities", communities);
    if (c.identifiers) {
      row("field.identifiers", "identifiers", c.identifiers.map((i) => `${i.kind} ${i.key.split(":").pop()?.slice(0, 10)}… ×${i.sharedBy}`).join(", ") || "—");
    }
    if (c.riskLinkages) {
      const links = h("span", {});
      for (const l of c.riskLinkages) {
        const b = h("button", { type: "button", class: "link", "data-linkage": l.linkageId, text: `${tr("linkage", l.kind)} (${l.size})` });
        b.addEventListener("click", () => void this.show("risk", { linkageId: l.linkageId }));
        links.append(b, " ");
      }
      if (!c.riskLinkages.length) links.append(t("badge.none"));
      row("field.linkages", "riskLinkages", links);
    }
    details.append(table);
    const state = this.expansions.get(c.id);
    const actions = h("div", { class: "buttons" });
    if (this.view === "neighbourhood" || this.view === "communities") {
      if (!state) {
        const b = label("button", "list.expand", { type: "button", id: "expand" });
        b.addEventListener("click", () => void this.expand(c.id));
        actions.append(b);
      } else if (state.next !== null) {
        const step = num(this.args.expandStep, 25);
        const b = h("button", {
          type: "button",
          id: "show-more",
          text: t("list.showMore", { n: Math.min(step, state.total - state.next), shown: state.shown, total: state.total }),
        });
        b.addEventListener("click", () => void this.expand(c.id));
        actions.append(b);
      }
    }
    details.append(actions);
    details.dataset.loaded = c.id;
    delete details.dataset.loading;
  }

  private whyScores(c: CustomerDetails): void {
    this.renderWhy = () => {
      const why = byId("why");
      clear(why);
      why.dataset.why = "scores";
      const table = h("table", { class: "kv scores" });
      const scores = c.scores ?? {};
      for (const [, key] of METRICS) {
        if (!(key in scores)) continue;
        const value = (scores as Record<string, number | null>)[key];
        const b = h("button", { type: "button", class: "link", "data-score": key, text: tr("score", key) });
        b.addEventListener("click", () => this.explainScore(c, key));
        const shown = typeof value === "number" || value == null ? fmt(value, 5) : Q.moneyText(value, locale());
        table.append(h("tr", { "data-score": key }, h("td", {}, b), h("td", { text: shown })));
      }
      why.append(label("h3", "field.scores"), table, h("div", { id: "why-detail" }));
      this.explainScore(c, "pagerank");
    };
    this.renderWhy();
  }

  private explainScore(c: CustomerDetails, key: string): void {
    const box = document.getElementById("why-detail");
    if (!box) return;
    clear(box);
    box.dataset.score = key;
    const value = (c.scores as Record<string, number | null> | null)?.[key];
    if (value == null) {
      box.append(label("p", "why.none"));
      return;
    }
    box.append(label("p", `why.${key}` as Key));
    if (key === "pagerank") {
      if (c.influenceExplanation === undefined) {
        box.append(label("p", "status.loading", { class: "muted" }));
        return;
      }
      box.dataset.explained = c.id;
      const ul = h("ul", { class: "contributions" });
      for (const x of c.influenceExplanation ?? []) {
        const name = Q.piiText(x.customer?.name);
        ul.append(h("li", {}, `${x.customerId} `, name.text, name.masked ? this.maskedBadge() : null, ` — ${t("why.share")} ${fmt(x.share, 5)}`));
      }
      box.append(ul);
    }
  }

  private selectEdge(id: string): void {
    const edge = this.canvas.cy.getElementById(id);
    if (edge.empty()) return;
    const d = edge.data() as Record<string, unknown>;
    this.renderDetails = () => {
      const details = byId("details");
      clear(details);
      details.dataset.loaded = id;
      const table = h("table", { class: "kv" });
      const row = (key: Key, value: string): void => {
        table.append(h("tr", {}, label("td", key), h("td", { text: value })));
      };
      const kind = str(d.kind);
      row("field.kind", TIE_KINDS.includes(kind) ? tr("tie", kind) : tr("rel", kind));
      row("field.from", str(d.source));
      row("field.to", str(d.target));
      if (TIE_KINDS.includes(kind)) {
        row("field.strength", fmt(d.strength, 3));
        row("field.since", str(d.since, "—"));
      }
      if (d.amount != null) row("field.amount", Q.moneyText(d.amount, locale()));
      if (d.pct != null) row("field.pct", `${fmt(d.pct, 2)}%`);
      if (d.at != null) row("field.at", str(d.at).replace("T", " "));
      if (d.order != null) row("field.order", `#${str(d.order)}`);
      details.append(table);
    };
    this.renderDetails();
  }

  // --- time slider -----------------------------------------------------------------------------
  private dates: string[] = [];

  private setupTime(): void {
    this.dates = this.canvas.dates();
    const slider = byId<HTMLInputElement>("time");
    slider.max = String(this.dates.length);
    slider.value = String(this.dates.length);
    slider.disabled = this.dates.length === 0;
    this.canvas.setTimeCut(null);
    this.updateTimeLabel();
  }

  private onTime(): void {
    const slider = byId<HTMLInputElement>("time");
    const i = Number(slider.value);
    this.canvas.setTimeCut(i >= this.dates.length ? null : (this.dates[Math.max(0, i - 1)] ?? null));
    if (i === 0 && this.dates.length) this.canvas.setTimeCut("0000-00-00");
    this.updateTimeLabel();
  }

  /** The hook's time filter: show only what is dated on or before ``date`` (null: all). */
  setTime(date: string | null): void {
    const slider = byId<HTMLInputElement>("time");
    if (date === null) slider.value = slider.max;
    else slider.value = String(this.dates.filter((d) => d <= date).length);
    this.onTime();
  }

  private updateTimeLabel(): void {
    const out = byId("time-value");
    const slider = byId<HTMLInputElement>("time");
    const i = Number(slider.value);
    if (this.dates.length === 0) out.textContent = t("time.none");
    else if (i >= this.dates.length) out.textContent = `${t("time.all")} (${this.dates[this.dates.length - 1]})`;
    else out.textContent = i === 0 ? "—" : this.dates[i - 1];
  }

  // --- status ----------------------------------------------------------------------------------
  private setStatus(key: Key, vars: Record<string, string | number> = {}): void {
    this.status = { key, vars };
    this.renderStatus();
  }

  private renderStatus(): void {
    const el = byId("status");
    el.classList.toggle("error", this.errorText !== null);
    if (this.errorText !== null) {
      el.textContent = this.errorText;
      return;
    }
    if (!this.status) return;
    el.textContent = this.status.key === "status.drawn"
      ? statusText(Number(this.status.vars.nodes), Number(this.status.vars.edges))
      : t(this.status.key, this.status.vars);
  }

  private showError(error: unknown): void {
    const el = byId("status");
    if (error instanceof ApiError) {
      el.dataset.errorCode = error.code;
      const known: Record<string, Key> = {
        FORBIDDEN: "err.FORBIDDEN",
        NOT_FOUND: "err.NOT_FOUND",
        NOT_COMPUTED: "err.NOT_COMPUTED",
        BUSY: "err.BUSY",
        TIMEOUT: "err.TIMEOUT",
        BAD_REQUEST: "err.BAD_REQUEST",
        NETWORK: "err.network",
      };
      const key = known[error.code];
      const message = error.hint ? `${error.message} — ${error.hint}` : error.message;
      this.errorText = error.code === "TOO_LARGE" ? error.message : key ? t(key, { message }) : t("status.error", { message });
    } else {
      el.dataset.errorCode = "INTERNAL";
      this.errorText = t("status.error", { message: String(error) });
    }
    this.renderStatus();
  }
}

/** The ties among each node's ``k`` strongest (either end), each tie once. */
function backbone(edges: EdgeSpec[], k: number): EdgeSpec[] {
  const byNode = new Map<string, EdgeSpec[]>();
  for (const e of edges) {
    for (const end of [e.source, e.target]) {
      const list = byNode.get(end);
      if (list) list.push(e);
      else byNode.set(end, [e]);
    }
  }
  const kept = new Set<EdgeSpec>();
  for (const list of byNode.values()) {
    list.sort((a, b) => (b.strength ?? 0) - (a.strength ?? 0));
    for (const e of list.slice(0, k)) kept.add(e);
  }
  return edges.filter((e) => kept.has(e));
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "-");
}

interface Linkage {
  id: string;
  kind: string;
  subtype: string | null;
  size: number;
  amount: unknown;
  score: number | null;
  members: Array<{ position: number | null; role: string | null; customer: Q.CustomerBrief }>;
  edges: Q.RiskEdgeAnswer[];
  identifiers: Array<{ key: string; kind: string; customerIds: string[] }>;
}

interface CustomerDetails extends Q.CustomerBrief {
  city: string | null;
  branchId: string | null;
  aum: unknown;
  riskRating: { value: number | null; masked: boolean } | null;
  consentMarketing: boolean | null;
  tier: string | null;
  lifecycleStage: string | null;
  managedByYou: boolean | null;
  phone: Q.Masked | null;
  idNumber: Q.Masked | null;
  email: Q.Masked | null;
  relationshipManager: { id: string; name: string } | null;
  products: Array<{ productId: string; name: string; category: string }> | null;
  scenarios: Array<{ scenarioId: string; name: string; kind: string }> | null;
  communities: Array<{ algorithm: string; communityId: string }> | null;
  scores: Record<string, unknown> | null;
  influenceExplanation?: Array<{ share: number; customerId: string; customer: Q.CustomerBrief | null }> | null;
  identifiers?: Array<{ kind: string; key: string; sharedBy: number }> | null;
  riskLinkages?: Array<{ linkageId: string; kind: string; subtype: string | null; size: number }> | null;
}
