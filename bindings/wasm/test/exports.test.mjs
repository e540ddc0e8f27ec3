// js/api.d.ts declares the JS layer by hand (the data types beside it are
// generated from Rust): this test keeps the declarations and the runtime in
// step, per build: the exported names of each entry point (init/initSync
// only where the platform needs them), and the members of each class.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..", "pkg");
const dts = (build) => readFileSync(join(pkg, build, "promptsieve.d.ts"), "utf8");

/** Value exports a declaration file names (`default` for a default export). */
function declared(text) {
  const names = new Set();
  for (const m of text.matchAll(/^export (default )?(?:declare )?(?:class|function|const) (\w+)/gm)) names.add(m[1] ? "default" : m[2]);
  for (const m of text.matchAll(/^export \{ ([^}]+) \} from/gm)) {
    for (const n of m[1].split(",")) names.add(n.trim().split(/\s+as\s+/).pop());
  }
  return names;
}

/** Member names of `export class Name { … }`: methods, fields, getters, statics. */
function members(text, name) {
  const body = text.match(new RegExp(`^export class ${name} \\{([\\s\\S]*?)^\\}`, "m"));
  assert.ok(body, `class ${name} declared`);
  const out = { instance: new Set(), statics: new Set() };
  for (const line of body[1].split("\n")) {
    const m = line.match(/^\s+(static )?(?:readonly )?(\w+)\??[(:]/);
    if (m && m[2] !== "constructor") out[m[1] ? "statics" : "instance"].add(m[2]);
  }
  return out;
}

const sorted = (s) => [...s].sort();

test("Node build: the declared exports are the runtime's (no init)", async () => {
  const m = await import(join(pkg, "nodejs", "promptsieve.js"));
  // `default` is module.exports, which import() adds for a CommonJS module.
  const runtime = Object.keys(m).filter((k) => k !== "default");
  assert.deepEqual(sorted(declared(dts("nodejs"))), sorted(runtime));
  assert.ok(!runtime.includes("initSync"));
});

test("web build (browser, workerd): the declared exports are the runtime's, with init and initSync", async () => {
  const m = await import(join(pkg, "web", "promptsieve.js"));
  assert.deepEqual(sorted(declared(dts("web"))), sorted(Object.keys(m)));
  assert.equal(typeof m.default, "function");
  assert.equal(typeof m.initSync, "function");
});

test("bundler build: the declared exports are the runtime's (no init)", () => {
  const code = `import * as m from "promptsieve/bundler"; console.log(JSON.stringify(Object.keys(m)));`;
  const keys = JSON.parse(execFileSync(process.execPath, ["--experimental-wasm-modules", "--no-warnings", "--input-type=module", "-e", code], {
    cwd: join(here, ".."),
    encoding: "utf8",
  }));
  assert.deepEqual(sorted(declared(dts("bundler"))), sorted(keys));
});

test("Scanner and Vault: declared members are the runtime's", async () => {
  const { Scanner, Vault } = await import("promptsieve");
  const text = dts("nodejs");
  for (const [C, instance] of [[Scanner, new Scanner()], [Vault, new Vault()]]) {
    const want = members(text, C.name);
    const proto = Object.getOwnPropertyNames(C.prototype).filter((n) => n !== "constructor");
    assert.deepEqual(sorted(want.instance), sorted(new Set([...proto, ...Object.keys(instance)])), `${C.name} members`);
    const statics = Object.getOwnPropertyNames(C).filter((n) => !["length", "name", "prototype"].includes(n));
    assert.deepEqual(sorted(want.statics), sorted(statics), `${C.name} statics`);
  }
});

test("adapters: each subpath's declared exports are its runtime's, and the exports map names them for node and default", async () => {
  const pkgJson = JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8"));
  for (const name of ["ai", "langchain", "openai"]) {
    const entry = pkgJson.exports[`./${name}`];
    assert.deepEqual(entry, {
      types: `./js/adapters/${name}.d.ts`,
      node: { import: `./js/adapters/${name}.js`, require: `./js/adapters/${name}.js` },
      default: `./js/adapters/${name}.js`,
    });
    const m = await import(`promptsieve/${name}`);
    const text = readFileSync(join(here, "..", entry.types), "utf8");
    assert.deepEqual(sorted(declared(text)), sorted(Object.keys(m)), name);
    // One error class for every adapter.
    const ai = await import("promptsieve/ai");
    assert.equal(m.PromptBlockedError, ai.PromptBlockedError);
  }
  for (const peer of ["ai", "@langchain/core", "openai"]) {
    assert.equal(pkgJson.peerDependenciesMeta[peer].optional, true, peer);
    assert.ok(!(peer in (pkgJson.dependencies ?? {})), peer);
  }
});
