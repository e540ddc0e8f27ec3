// The adapters' documentation runs: examples/adapters/*.mjs, and every code
// block after a `<!-- run: adapters -->` line in this package's README and
// in the repository's README, each in a fresh Node process as a user would
// run it, with OPENAI_BASE_URL pointing at the stand-in OpenAI API
// (test/adapter-support.mjs). Then tsc --strict checks the examples and the
// adapters' declarations (examples/adapters/tsconfig.json).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { openaiStub } from "./adapter-support.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
let stub;

before(async () => {
  stub = await openaiStub();
  // What the examples expect of a model that was sent placeholders.
  stub.reply = () => ({ pieces: [..."Hello [PERSON_1], I'll write to [EMAIL_1]."] });
});
after(() => stub.close());

function node(file) {
  const env = { ...process.env, OPENAI_BASE_URL: stub.url, OPENAI_API_KEY: "sk-test" };
  return new Promise((ok, fail) =>
    execFile(process.execPath, [file], { cwd: root, env }, (e, stdout, stderr) => (e ? fail(new Error(`${file}: ${stderr || e.message}`)) : ok(stdout))),
  );
}

for (const name of ["ai", "langchain", "openai"]) {
  test(`examples/adapters/${name}.mjs runs`, async () => {
    const before = stub.requests.length;
    assert.match(await node(join(root, "examples", "adapters", `${name}.mjs`)), new RegExp(`${name} example: ok`));
    if (name === "openai") {
      const sent = JSON.stringify(stub.requests.slice(before));
      assert.ok(stub.requests.length > before && !sent.includes("Alice") && !sent.includes("alice@"));
    }
  });
}

const blocks = (file) => (existsSync(file) ? [...readFileSync(file, "utf8").matchAll(/<!-- run: adapters -->\n```js\n([\s\S]*?)```/g)].map((m) => m[1]) : []);
const readmes = [
  ["bindings/wasm/README.md", join(root, "README.md"), 3],
  ["README.md", join(root, "..", "..", "README.md"), 3],
];

for (const [name, file, least] of readmes) {
  const found = blocks(file);
  test(`${name}: the adapter blocks are there (${found.length})`, () => assert.ok(found.length >= least, `${found.length} < ${least}`));
  found.forEach((code, i) => {
    test(`${name}: adapter block ${i} runs`, async () => {
      // Named like the README test's scratch files (ignored by git).
      const scratch = join(here, `.readme-block-adapters-${name.replace(/\W/g, "-")}-${i}-${process.pid}.mjs`);
      writeFileSync(scratch, code);
      try {
        await node(scratch);
      } finally {
        rmSync(scratch, { force: true });
      }
    });
  });
}

test("tsc --strict over the adapter examples and declarations (examples/adapters/tsconfig.json)", async () => {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  await new Promise((ok, fail) =>
    execFile(process.execPath, [tsc, "-p", join(root, "examples", "adapters", "tsconfig.json")], { cwd: root }, (e, stdout) => (e ? fail(new Error(stdout)) : ok())),
  );
});
