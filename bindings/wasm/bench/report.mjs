// Size, start-up and latency of the npm package, for the README.
// Run: scripts/wasm-report (builds first). Numbers are wall-clock on the
// current machine; nothing here is asserted by tests.
import { performance } from "node:perf_hooks";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { Miniflare } from "miniflare";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasm = join(root, "pkg", "web", "promptsieve_native_bg.wasm");
const bytes = readFileSync(wasm);
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];

const t0 = performance.now();
const { Scanner } = await import(join(root, "pkg", "nodejs", "promptsieve.js"));
const t1 = performance.now();
const scanner = new Scanner();
const t2 = performance.now();
const corpus = readFileSync(join(root, "..", "..", "benches", "data", "benign.txt"), "utf8");
const prompt4k = corpus.slice(0, 4096);
scanner.scan(prompt4k); // first use compiles the rules it needs
const lat = [];
for (let i = 0; i < 200; i++) {
  const a = performance.now();
  scanner.scan(prompt4k);
  lat.push(performance.now() - a);
}

// workerd: the worker example, first request (instantiates and builds) and warm.
const pkg = join(root, "pkg", "web");
const mf = new Miniflare({
  host: "127.0.0.1",
  compatibilityDate: "2025-01-01",
  bindings: { VAULT_KEY: "worker secret" },
  port: 0,
  modules: [
    { type: "ESModule", path: "worker.mjs", contents: readFileSync(join(root, "examples", "worker", "worker.mjs"), "utf8") },
    { type: "ESModule", path: "promptsieve", contents: readFileSync(join(pkg, "promptsieve.js"), "utf8") },
    // The entry point's own imports, as in test/worker.test.mjs.
    { type: "ESModule", path: "promptsieve_native.js", contents: readFileSync(join(pkg, "promptsieve_native.js"), "utf8") },
    { type: "ESModule", path: "api.js", contents: readFileSync(join(pkg, "api.js"), "utf8") },
    { type: "CompiledWasm", path: "promptsieve/promptsieve_bg.wasm", contents: bytes },
    ...readdirSync(join(pkg, "snippets")).map((d) => ({
      type: "ESModule",
      path: `snippets/${d}/js/errors.js`,
      contents: readFileSync(join(pkg, "snippets", d, "js", "errors.js"), "utf8"),
    })),
  ],
});
const url = await mf.ready;
const post = async (message) => {
  const a = performance.now();
  await (await fetch(url, { method: "POST", body: JSON.stringify({ message }) })).json();
  return performance.now() - a;
};
const first = await post("hello");
const warm = [];
for (let i = 0; i < 50; i++) warm.push(await post(prompt4k));
await mf.dispose();

console.log(JSON.stringify({
  wasm_bytes: statSync(wasm).size,
  wasm_gzip_bytes: gzipSync(bytes, { level: 9 }).length,
  node_import_ms: +(t1 - t0).toFixed(1),
  node_new_scanner_ms: +(t2 - t1).toFixed(1),
  node_scan_4k_median_ms: +median(lat).toFixed(3),
  workerd_first_request_ms: +first.toFixed(1),
  workerd_warm_4k_request_median_ms: +median(warm).toFixed(2),
}, null, 2));
