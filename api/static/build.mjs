// Copies the browser assets the API serves from node_modules (installed by `npm ci` from the
// committed package-lock.json) into api/static/vendor/, so that nothing is fetched from
// anywhere but the API itself at run time. Run by `make install` (`npm run build`).
// Each entry: [package, file inside the package, name under vendor/]; the versions come
// from the lock file and are written to vendor/manifest.json next to each file's SHA-256.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const vendor = join(here, "vendor");
const require = createRequire(join(root, "package.json"));

const ASSETS = [
  ["react", "umd/react.production.min.js", "react.production.min.js"],
  ["react-dom", "umd/react-dom.production.min.js", "react-dom.production.min.js"],
  ["graphiql", "graphiql.min.js", "graphiql.min.js"],
  ["graphiql", "graphiql.min.js.map", "graphiql.min.js.map"],
  ["graphiql", "graphiql.min.css", "graphiql.min.css"],
  ["graphiql", "graphiql.min.css.map", "graphiql.min.css.map"],
];

function packageDir(name) {
  return dirname(require.resolve(`${name}/package.json`));
}

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
const manifest = {};
for (const [name, file, target] of ASSETS) {
  const dir = packageDir(name);
  const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  copyFileSync(join(dir, file), join(vendor, target));
  const sha256 = createHash("sha256").update(readFileSync(join(vendor, target))).digest("hex");
  manifest[target] = { package: name, version, file, sha256 };
}
writeFileSync(join(vendor, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`copied ${ASSETS.length} files into ${vendor}`);
