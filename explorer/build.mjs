// Builds the explorer page into api/explorer/static/ (the package's static folder):
// type-checks the TypeScript (tsc --noEmit), bundles explorer/src/main.ts with esbuild (one
// minified script, Cytoscape.js included), and copies the page, its style sheet and icon.
// Run by `npm run build` (make install). Nothing here or in the output reaches another origin.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(root, "api", "explorer", "static");
const require = createRequire(join(root, "package.json"));

try {
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(here, "tsconfig.json")], {
    stdio: "inherit",
  });
} catch {
  console.error("explorer: the TypeScript type check failed (see above); nothing was built");
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(out, "explorer.js"),
  bundle: true,
  minify: process.env.EXPLORER_MINIFY !== "0", // EXPLORER_MINIFY=0: readable names for profiling
  sourcemap: true,
  format: "iife",
  target: ["chrome110", "firefox115", "safari16"],
  legalComments: "linked",
  logLevel: "warning",
});
for (const file of ["index.html", "explorer.css", "favicon.svg"]) {
  copyFileSync(join(here, file), join(out, file));
}

// read from node_modules directly: cytoscape's "exports" do not list its package.json
const version = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
const manifest = { built_with: { cytoscape: version("cytoscape"), esbuild: version("esbuild"), typescript: version("typescript") }, files: {} };
for (const file of ["explorer.js", "explorer.js.map", "explorer.js.LEGAL.txt", "index.html", "explorer.css", "favicon.svg"]) {
  try {
    manifest.files[file] = createHash("sha256").update(readFileSync(join(out, file))).digest("hex");
  } catch {
    // esbuild writes the legal-comments file only when there are any
  }
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`explorer built into ${out}`);
