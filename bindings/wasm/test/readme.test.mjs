// Runs the README's code blocks that follow a `<!-- run -->` line (as ES
// modules inside the package, so `import … from "promptsieve"` resolves to
// this build), so the documentation cannot drift from the API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "..", "README.md"), "utf8");
const blocks = [...readme.matchAll(/<!-- run -->\n```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test("the README has blocks to run", () => assert.ok(blocks.length >= 1));

blocks.forEach((code, i) => {
  test(`README block ${i}`, async () => {
    const file = join(here, `.readme-block-${i}-${process.pid}.mjs`);
    writeFileSync(file, code);
    try {
      await import(pathToFileURL(file).href);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
