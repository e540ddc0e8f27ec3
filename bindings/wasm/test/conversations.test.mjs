// The shared conversation and stream cases (tests/conformance/conversations.json):
// one vault across turns with a JSON round trip, an OpenAI message list, and
// restoreStream over every split of a reply (UTF-16 positions).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { Scanner, Vault, restoreStream } from "promptsieve";

const here = dirname(fileURLToPath(import.meta.url));
const cases = JSON.parse(readFileSync(join(here, "..", "..", "..", "tests", "conformance", "conversations.json"), "utf8"));
const scanner = new Scanner();

async function viaStream(vault, reply, cuts) {
  const chunks = [];
  let last = 0;
  for (const c of [...cuts, reply.length]) {
    chunks.push(reply.slice(last, c));
    last = c;
  }
  const source = new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  let out = "";
  for await (const piece of source.pipeThrough(restoreStream(vault))) out += piece;
  return out;
}

test("every kind has a case", () => {
  assert.deepEqual(new Set(cases.map((c) => c.kind)), new Set(["conversation", "messages", "stream"]));
});

test("a stream case has a surrogate pair, so some cuts fall inside one", () => {
  assert.ok(cases.some((c) => c.kind === "stream" && /[\ud800-\udbff]/.test(c.reply)));
});

for (const c of cases) {
  test(`conversations.json/${c.name}`, async () => {
    const vault = new Vault();
    if (c.kind === "conversation") {
      c.turns.forEach((t, i) => assert.equal(scanner.redact(t, { vault }).text, c.redacted[i]));
      const again = Vault.fromJSON(JSON.stringify(vault));
      assert.equal(again.restore(c.reply), c.restored);
    } else if (c.kind === "messages") {
      const r = scanner.redactMessages(c.messages, { vault });
      assert.deepEqual(r.messages, c.redacted);
      assert.equal(scanner.checkMessages(c.messages).action, c.action);
      assert.equal(vault.restore(c.reply), c.restored);
    } else {
      for (const t of c.turns) scanner.redact(t, { vault });
      // Every UTF-16 position, inside surrogate pairs too: a JS string can
      // be sliced there even though a TextDecoder never cuts one.
      const bounds = Array.from({ length: c.reply.length + 1 }, (_, i) => i);
      for (const b of bounds) {
        const r = vault.restorer();
        const out = r.push(c.reply.slice(0, b)) + (assert.ok(r.held() <= c.max_held) ?? "") + r.push(c.reply.slice(b)) + r.finish();
        assert.equal(out, c.restored, `split at ${b}`);
      }
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      for (let k = 0; k < 200; k++) {
        const cuts = Array.from({ length: 8 }, () => bounds[Math.floor(rand() * bounds.length)]).sort((a, b) => a - b);
        assert.equal(await viaStream(vault, c.reply, cuts), c.restored, `splits ${cuts}`);
      }
    }
  });
}
