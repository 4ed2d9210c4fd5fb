// The page's only way out: POST /graphql on this origin with the bearer token. The token is
// held in this module's memory (never in storage, cookies or the address), and every URL the
// page fetches is logged for the test hook's lastRequests().

export interface GraphQLErrorItem {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; hint?: string; [k: string]: unknown };
}

export interface Answer<T> {
  data: T | null;
  errors: GraphQLErrorItem[];
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

let token: string | null = null;
const requests: string[] = [];
let unauthorised: () => void = () => undefined;

export function setToken(value: string | null): void {
  token = value;
}

export function hasToken(): boolean {
  return token !== null;
}

export function onUnauthorised(handler: () => void): void {
  unauthorised = handler;
}

/** Every URL this page loaded or fetched (resource timing: scripts, styles, fetches), in order. */
export function lastRequests(): string[] {
  const loaded = performance.getEntriesByType("resource").map((e) => e.name);
  const seen = new Set(loaded);
  return [location.href.split("#")[0], ...loaded, ...requests.filter((r) => !seen.has(r))];
}

performance.setResourceTimingBufferSize(10_000);

export function logRequest(url: string): void {
  requests.push(new URL(url, location.href).href);
  if (requests.length > 500) requests.splice(0, requests.length - 500);
}

/** Run one operation; answers with data and errors (a forbidden part is null + an error). */
export async function graphql<T>(
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Answer<T>> {
  if (token === null) throw new ApiError("UNAUTHENTICATED", "not signed in");
  const url = "/graphql";
  logRequest(url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError("NETWORK", "the API could not be reached");
  }
  if (response.status === 401) {
    unauthorised();
    throw new ApiError("UNAUTHENTICATED", "the API refused the token");
  }
  let body: { data?: T | null; errors?: GraphQLErrorItem[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError("INTERNAL_ERROR", `HTTP ${response.status}`);
  }
  return { data: body.data ?? null, errors: body.errors ?? [] };
}

/** The data of an operation whose root field must answer; its error otherwise. */
export async function must<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const answer = await graphql<T>(query, variables);
  const rootErrors = answer.errors.filter((e) => (e.path ?? []).length <= 1);
  if (answer.data === null || rootErrors.length > 0) {
    const first = rootErrors[0] ?? answer.errors[0];
    throw new ApiError(
      String(first?.extensions?.code ?? "INTERNAL_ERROR"),
      first?.message ?? "no data",
      typeof first?.extensions?.hint === "string" ? first.extensions.hint : undefined,
    );
  }
  return answer.data;
}
