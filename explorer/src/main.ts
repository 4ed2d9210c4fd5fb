// Entry point. First thing: take the token out of the URL fragment and the address bar, so it
// is in no history entry, bookmark or screenshot of the address; then sign in with it (or ask
// for one) and expose the small test hook window.crkgExplorer.

import { lastRequests, must, onUnauthorised, setToken } from "./api";
import { Explorer, ViewName } from "./app";
import { byId, clear, h, label } from "./dom";
import { applyLabels, lang, setLang, t } from "./i18n";
import { ME } from "./queries";
import type { Snapshot } from "./graph";

function takeTokenFromFragment(): string | null {
  const fragment = location.hash.startsWith("#") ? location.hash.slice(1) : "";
  if (!fragment) return null;
  const params = new URLSearchParams(fragment);
  const token = params.get("token");
  const wanted = params.get("lang");
  if (wanted === "zh" || wanted === "en") setLang(wanted);
  // drop the fragment from the address (and from this history entry) at once
  history.replaceState(null, "", location.pathname + location.search);
  return token && token.trim() ? token.trim() : null;
}

const fragmentToken = takeTokenFromFragment();

export interface CrkgExplorerHook {
  ready(): Promise<void>;
  graph(): Snapshot;
  search(text: string): Promise<Array<{ id: string; label: string; masked: boolean }>>;
  show(view: ViewName, args?: Record<string, unknown>): Promise<void>;
  lastRequests(): string[];
  setLang(lang: "en" | "zh"): void;
  setTime(date: string | null): void;
}

declare global {
  interface Window {
    crkgExplorer?: CrkgExplorerHook;
  }
}

let signedIn: Promise<void> = Promise.resolve();
let explorer: Explorer | null = null;

function loginScreen(message?: string): void {
  const root = byId("root");
  clear(root);
  const input = h("input", {
    id: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  const form = h(
    "form",
    { id: "login" },
    label("h1", "login.title"),
    label("p", "login.explain"),
    h("label", {}, label("span", "login.token"), input),
    label("button", "login.submit", { type: "submit" }),
    message ? h("p", { class: "error", role: "alert", text: message }) : null,
    label("p", "login.oidc", { class: "muted" }),
    (() => {
      const b = label("button", "header.lang", { type: "button", id: "lang" });
      b.addEventListener("click", () => setLang(lang() === "en" ? "zh" : "en"));
      return b;
    })(),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = input.value.trim();
    input.value = "";
    if (value) signedIn = signIn(value);
  });
  root.append(form);
  applyLabels(root);
}

async function signIn(token: string): Promise<void> {
  setToken(token);
  try {
    const data = await must<{ me: { subject: string; role: string; rmId: string | null; permissions: string[] } }>(ME);
    const root = byId("root");
    clear(root);
    explorer = new Explorer(root);
    explorer.start(data.me);
  } catch {
    setToken(null);
    loginScreen(t("login.bad"));
  }
}

onUnauthorised(() => {
  setToken(null);
  explorer = null;
  loginScreen(t("login.bad"));
});

function need(): Explorer {
  if (!explorer) throw new Error("not signed in");
  return explorer;
}

window.crkgExplorer = {
  async ready() {
    await signedIn;
    await need().ready();
  },
  graph: () => need().graph(),
  search: async (text) => {
    await signedIn;
    return need().search(text);
  },
  show: async (view, args = {}) => {
    await signedIn;
    return need().show(view, args);
  },
  lastRequests,
  setLang,
  setTime: (date) => need().setTime(date),
};

if (fragmentToken) signedIn = signIn(fragmentToken);
else loginScreen();
