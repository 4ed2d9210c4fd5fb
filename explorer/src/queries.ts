// Every GraphQL document the page sends, and the readers of what comes back, in ONE place:
// when the API changes a field (e.g. money becomes `{ amount currency }`, or a figure is
// banded for a role) this file is where the page adapts. Readers are defensive: a field may
// be null (forbidden for the role, not computed) or, for money, a number, an object or a
// banded/masked string.

// --- field lists ------------------------------------------------------------------------------
/** The selection after a Money field (an exact amount). The explorer's own fields
 * (explorerLinkage, explorerGuarantees) give amounts as plain numbers and take none. */
export const MONEY = "{ amount currency }";
/** After a MaskedMoney field: exact, or when masked only the band it lies in. */
export const MASKED_MONEY = "{ amount low high currency masked }";
/** After a figure withheld by role (a risk rating, a score computed from a financial one). */
const MASKED_VALUE = "{ value masked }";
/** A PII field: masked unless the role may see it, and saying which. */
const PII = "{ value masked }";

const CUSTOMER_BRIEF = `id kind name ${PII}`;

export function customerDetails(perms: Set<string>): string {
  const risk = perms.has("read_risk");
  const identifiers = perms.has("read_identifiers");
  return `query ExplorerCustomer($id: ID!) {
  customer(id: $id) {
    ${CUSTOMER_BRIEF} city branchId aum${MASKED_MONEY} riskRating ${MASKED_VALUE} consentMarketing tier lifecycleStage
    managedByYou phone ${PII} idNumber ${PII} email ${PII}
    relationshipManager { id name }
    products { productId name category status balance${MASKED_MONEY} }
    scenarios { scenarioId name kind role }
    communities { algorithm communityId }
    scores { pagerank degree betweenness personalizedPagerank referralInfluence networkValue ${MASKED_VALUE}${
      risk ? ` exposure${MONEY}` : ""
    } }
    ${identifiers ? "identifiers { kind key sharedBy }" : ""}
    ${risk ? "riskLinkages { linkageId kind subtype size role }" : ""}
  }
}`;
}

/** The neighbours carrying a customer's PageRank: the why panel asks for it after the details. */
export const INFLUENCE = `query ExplorerInfluence($id: ID!) {
  customer(id: $id) { id influenceExplanation { share customerId customer { ${CUSTOMER_BRIEF} } } }
}`;

export const ME = `query ExplorerMe { me { subject role rmId permissions } }`;

export const SEARCH = `query ExplorerSearch($search: String!) {
  customers(search: $search, first: 20) { edges { node { ${CUSTOMER_BRIEF} city } } }
}`;

const COLUMNS = "nodes edges";

export const NEIGHBOURHOOD = `query ExplorerNeighbourhood($id: ID!, $depth: Int!, $types: [TieType!],
    $minStrength: Float, $maxNodes: Int!, $colorBy: CommunityAlgorithm!, $sizeBy: InfluenceMetric!) {
  explorerNeighbourhood(customerId: $id, depth: $depth, types: $types, minStrength: $minStrength,
      maxNodes: $maxNodes, colorBy: $colorBy, sizeBy: $sizeBy) {
    ${COLUMNS} nodeCount edgeCount truncated layout layoutSeconds
  }
}`;

export const COMMUNITY_VIEW = `query ExplorerCommunity($id: ID!, $maxNodes: Int!, $sizeBy: InfluenceMetric!) {
  explorerCommunity(communityId: $id, maxNodes: $maxNodes, sizeBy: $sizeBy) {
    ${COLUMNS} nodeCount edgeCount truncated layout layoutSeconds
  }
}`;

export const EXPAND = `query ExplorerExpand($id: ID!, $types: [TieType!], $minStrength: Float, $first: Int!,
    $offset: Int!, $drawn: [ID!], $colorBy: CommunityAlgorithm!, $sizeBy: InfluenceMetric!) {
  explorerExpand(customerId: $id, types: $types, minStrength: $minStrength, first: $first,
      offset: $offset, drawn: $drawn, colorBy: $colorBy, sizeBy: $sizeBy) {
    total offset nextOffset ${COLUMNS}
  }
}`;

export const COMMUNITY_PROFILE = `query ExplorerCommunityProfile($id: ID!) {
  community(id: $id) {
    id algorithm size internalTies density tierMix productPenetration
    dominantScenarios { scenarioId members }
    centralMembers { ${CUSTOMER_BRIEF} }
  }
}`;

export const PATHS = `query ExplorerPaths($from: ID!, $to: ID!, $k: Int!) {
  paths(fromId: $from, toId: $to, k: $k) { customerIds hops strength cost customers { ${CUSTOMER_BRIEF} } }
}`;

export const REFERRAL_PATHS = `query ExplorerReferralPaths($to: ID!, $rm: ID, $k: Int!) {
  referralPaths(toCustomerId: $to, fromRmId: $rm, k: $k) {
    customerIds hops strength cost customers { ${CUSTOMER_BRIEF} }
  }
}`;

export const TIES = `query ExplorerTies($pairs: [[ID!]!]!) {
  explorerTies(pairs: $pairs) { fromId toId kind strength since }
}`;

export const CUSTOMER_BRIEFS = (ids: string[]): string =>
  `query ExplorerBriefs { ${ids
    .map((id, i) => `c${i}: customer(id: ${JSON.stringify(id)}) { ${CUSTOMER_BRIEF} }`)
    .join(" ")} }`;

export const REFERRAL_TARGETS = `query ExplorerTargets($product: ID!, $scenario: ID, $first: Int!) {
  referralTargets(productId: $product, scenarioId: $scenario, first: $first) {
    rank score runId
    reasons { adamicAdar commonNeighbors resourceAllocation adoptionRate tieStrength introducerInfluence }
    customer { ${CUSTOMER_BRIEF} }
    introducers { customerId score commonNeighbors pathIds customer { ${CUSTOMER_BRIEF} } }
  }
}`;

export const LINKAGE_LISTS = {
  circles: `query ExplorerCircles { guaranteeCircles(first: 50) {
    id kind length totalAmount${MONEY} members(first: 10) { position customer { id } } } }`,
  rings: `query ExplorerRings { riskRings(kind: IDENTIFIER_RING, first: 50) {
    id kind size score members(first: 10) { position customer { id } } } }`,
  cycles: `query ExplorerCycles { riskRings(kind: FUND_CYCLE, first: 50) {
    id kind size score amount${MONEY} members(first: 10) { position customer { id } } } }`,
};

export const LINKAGE = `query ExplorerLinkage($id: ID!) {
  explorerLinkage(id: $id) {
    id kind subtype size amount score runId
    members(first: 50) { position role customer { ${CUSTOMER_BRIEF} } }
    edges { fromId toId kind amount pct at order }
    identifiers { key kind customerIds }
  }
}`;

export const RISK_AROUND = `query ExplorerRiskAround($id: ID!, $hops: Int!) {
  customer(id: $id) { ${CUSTOMER_BRIEF} riskLinkages { linkageId kind subtype size role } }
  explorerGuarantees(customerId: $id, hops: $hops, first: 500) { fromId toId kind amount }
}`;

export const EXPOSURE = `query ExplorerExposure($id: ID!, $hops: Int!, $direction: ExposureDirection!) {
  exposure(customerId: $id, hops: $hops, direction: $direction) {
    total${MONEY} byHop${MONEY} partyCount truncated direction hops decay
    customer { ${CUSTOMER_BRIEF} }
    parties(first: 200) { hop amount${MONEY} weightedAmount${MONEY} customer { ${CUSTOMER_BRIEF} } }
  }
  explorerGuarantees(customerId: $id, hops: $hops, first: 500) { fromId toId kind amount }
}`;

export const GROUP = `query ExplorerGroup($id: ID!) {
  relatedPartyGroup(customerId: $id) {
    id size runId
    controller { ${CUSTOMER_BRIEF} }
    members(first: 200) { position role customer { ${CUSTOMER_BRIEF} } }
    shareholdings { holderId companyId pct }
  }
}`;

// --- answers ------------------------------------------------------------------------------------
export interface Masked {
  value: string | null;
  masked: boolean;
}

export interface CustomerBrief {
  id: string;
  kind: string | null;
  name: Masked | null;
}

export interface Columns {
  [column: string]: Array<unknown>;
}

export interface DrawnGraph {
  nodes: Columns;
  edges: Columns;
  nodeCount: number;
  edgeCount: number;
  truncated: boolean;
  layout: string;
  layoutSeconds: number;
}

export interface Expansion {
  total: number;
  offset: number;
  nextOffset: number | null;
  nodes: Columns;
  edges: Columns;
}

export interface PathAnswer {
  customerIds: string[];
  customers: CustomerBrief[] | null;
  hops: number;
  strength: number;
  cost: number;
}

export interface TieAnswer {
  fromId: string;
  toId: string;
  kind: string;
  strength: number | null;
  since: string | null;
}

export interface RiskEdgeAnswer {
  fromId: string;
  toId: string;
  kind: string;
  amount?: unknown;
  pct?: number | null;
  at?: string | null;
  order?: number | null;
}

/** Rows of a column answer (one object per index), missing columns read as null. */
export function rows(columns: Columns | null | undefined): Array<Record<string, unknown>> {
  if (!columns) return [];
  const names = Object.keys(columns);
  const length = names.length ? (columns[names[0]] ?? []).length : 0;
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < length; i += 1) {
    const row: Record<string, unknown> = {};
    for (const name of names) row[name] = columns[name]?.[i] ?? null;
    out.push(row);
  }
  return out;
}

/** A PII value as displayed: its (masked) value, and whether it is masked. */
export function piiText(value: unknown): { text: string; masked: boolean } {
  if (value && typeof value === "object" && "value" in value) {
    const v = value as Masked;
    return { text: v.value ?? "", masked: Boolean(v.masked) };
  }
  return { text: value == null ? "" : String(value), masked: false };
}

/** A money figure as displayed: a number, `{amount currency}`, a band or a masked value. */
export function moneyText(value: unknown, locale: string): string {
  if (value == null) return "—";
  if (typeof value === "number") {
    return value.toLocaleString(locale, { maximumFractionDigits: 2 });
  }
  if (typeof value === "string") return value;
  if (typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (v.masked === true && ("low" in v || "high" in v)) {
      // a banded figure: only the band it lies in ("high" null: open-ended)
      const bound = (b: unknown): string =>
        b == null ? "" : Number(b).toLocaleString(locale, { maximumFractionDigits: 2 });
      const band = v.high == null ? `≥ ${bound(v.low)}` : `${bound(v.low)}–${bound(v.high)}`;
      return v.currency ? `${band} ${String(v.currency)}` : band;
    }
    if ("amount" in v) {
      const amount = typeof v.amount === "number" ? v.amount : Number(v.amount);
      const shown = Number.isFinite(amount)
        ? amount.toLocaleString(locale, { maximumFractionDigits: 2 })
        : String(v.amount);
      return v.currency ? `${shown} ${String(v.currency)}` : shown;
    }
    if ("band" in v) return String(v.band);
    if ("value" in v) return String(v.value ?? "—");
  }
  return String(value);
}

/** A number from a money figure (for sizes and sums), or null when it is banded/masked. */
export function moneyNumber(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (value && typeof value === "object" && "amount" in value) {
    const amount = (value as { amount: unknown }).amount;
    if (amount == null) return null; // masked: only a band
    const n = Number(amount);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** A score as a number: a plain one, a masked `{ value masked }` (null when withheld), or
 * money (exposure). */
export function scoreNumber(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (value && typeof value === "object" && "value" in value) {
    const v = (value as { value: unknown }).value;
    return typeof v === "number" ? v : null;
  }
  return moneyNumber(value);
}

/** Whether a figure came masked (a band, a withheld rating or score). */
export function isMasked(value: unknown): boolean {
  return Boolean(value && typeof value === "object" && (value as { masked?: unknown }).masked === true);
}
