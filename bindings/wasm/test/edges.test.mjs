// Input the engine must never see: every string parameter of every method
// is checked in JS (a non-string reaching wasm-bindgen's string copy traps
// with "memory access out of bounds"), freed objects fail with an Error and
// not a trap, and a damaged result kept across requests fails when rebuilt.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Scanner, Vault, Redacted, restoreStream, PromptsieveError } from "promptsieve";

const scanner = new Scanner();

test("every string parameter refuses a non-string with TypeError", () => {
  const vault = new Vault();
  scanner.redact("mail ana@example.org", { vault });
  const calls = {
    "scan text": (x) => scanner.scan(x),
    "scan source": (x) => scanner.scan("hi", x),
    "sanitize": (x) => scanner.sanitize(x),
    "check text": (x) => scanner.check(x),
    "redact text": (x) => scanner.redact(x),
    "scanOutput reply": (x) => scanner.scanOutput(x),
    "audit text": (x) => scanner.audit(x, "k"),
    "audit key": (x) => scanner.audit("hi", x),
    "audit source": (x) => scanner.audit("hi", "k", x),
    "outputStream push": (x) => scanner.outputStream().push(x),
    "vault restore": (x) => vault.restore(x),
    "vault toSealedJSON": (x) => vault.toSealedJSON(x),
    "Vault.fromSealedJSON text": (x) => Vault.fromSealedJSON(x, "k"),
    "Vault.fromSealedJSON key": (x) => Vault.fromSealedJSON(vault.toSealedJSON("k"), x),
    "restorer push": (x) => vault.restorer().push(x),
    "redacted restore": (x) => scanner.redact("ana@example.org").restore(x),
  };
  for (const [name, call] of Object.entries(calls)) {
    for (const bad of [42, {}, ["x"], true]) {
      assert.throws(() => call(bad), TypeError, `${name}(${JSON.stringify(bad)})`);
    }
  }
});

test("options that are not objects are refused with TypeError", () => {
  for (const bad of ["mask", 5, ["x"]]) {
    assert.throws(() => new Scanner(bad), TypeError);
    assert.throws(() => scanner.redact("x", bad), TypeError);
    assert.throws(() => scanner.scanOutput("x", bad), TypeError);
  }
  assert.throws(() => restoreStream({}), TypeError);
  assert.throws(() => scanner.checkMessages({ role: "user" }), TypeError);
});

test("a non-string chunk errors the restoring stream instead of trapping", async () => {
  const vault = new Vault();
  const src = new ReadableStream({ start(c) { c.enqueue("ok "); c.enqueue(7); c.close(); } });
  await assert.rejects(async () => {
    for await (const _ of src.pipeThrough(restoreStream(vault)));
  }, TypeError);
});

test("freed objects throw an Error (no trap), and free() twice is harmless", () => {
  const v = new Vault();
  v.free();
  v.free();
  for (const f of [() => v.restore("x"), () => scanner.redact("ana@example.org", { vault: v })]) {
    assert.throws(f, (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError));
  }
  const s = new Scanner();
  s.free();
  s.free();
  assert.throws(() => s.scan("x"), (e) => e instanceof Error && !(e instanceof WebAssembly.RuntimeError));
  // The engine still works after the frees.
  assert.equal(scanner.redact("ana@example.org").text, "[EMAIL_1]");
});

test("Redacted.fromJSON checks the data when rebuilding", () => {
  for (const bad of [5, undefined, null, () => 1]) {
    assert.throws(() => Redacted.fromJSON(bad), TypeError);
    assert.throws(() => Vault.fromJSON(bad), TypeError);
  }
  for (const bad of ["[]", "not json", "{\"entries\": 3}"]) {
    assert.throws(() => Redacted.fromJSON(bad), PromptsieveError, bad);
    assert.throws(() => Vault.fromJSON(bad), PromptsieveError, bad);
  }
  assert.throws(() => Redacted.fromJSON("{}"), (e) => e instanceof PromptsieveError && /text/.test(e.message));
  assert.throws(() => Redacted.fromJSON({ text: "a", replacements: [{}] }), /placeholder/);
  const good = scanner.redact("mail ana@example.org");
  const again = Redacted.fromJSON(JSON.parse(JSON.stringify(good)));
  assert.deepEqual(again.toJSON(), good.toJSON());
  assert.equal(again.restore("to [EMAIL_1]"), "to ana@example.org");
});

test("lone surrogates do not shift UTF-16 spans", () => {
  const text = "a\ud800b mail ana@example.org \udfff end";
  const f = scanner.scan(text).findings.find((x) => x.entity === "EMAIL");
  assert.equal(text.slice(f.start, f.end), "ana@example.org");
});

test("Symbol.dispose frees (what `using` calls), where the runtime has it", { skip: typeof Symbol.dispose !== "symbol" && "no Symbol.dispose" }, () => {
  const v = new Vault();
  v[Symbol.dispose]();
  assert.throws(() => v.restore("x"), Error);
  v[Symbol.dispose]();
  const s = new Scanner();
  s[Symbol.dispose]();
  assert.throws(() => s.scan("x"), Error);
});

test("a chunk cut inside a surrogate pair: the output stream keeps the character and UTF-16 spans", () => {
  const reply = "😀 mail ana@example.org 😀";
  const whole = scanner.scanOutput(reply);
  for (const cut of [1, reply.length - 1]) {
    const o = scanner.outputStream();
    o.push(reply.slice(0, cut));
    o.push(reply.slice(cut));
    assert.deepEqual(o.finish(), whole, `cut ${cut}`);
  }
  const r = new Vault().restorer();
  assert.equal(r.push("a\ud83d") + r.push("\ude00b") + r.finish(), "a😀b");
  // A high surrogate left at the end is what the stream ends with (wasm-bindgen's U+FFFD).
  const lone = new Vault().restorer();
  assert.equal(lone.push("a\ud83d") + lone.finish(), "a\ufffd");
});

test("message-list results restore a reply without a vault, and serialise as data", () => {
  const msgs = [{ role: "user", content: "I am ana@example.org" }, { role: "user", content: [{ type: "text", text: "cc bob@example.org" }] }];
  const r = scanner.redactMessages(msgs);
  const { restore } = r;
  assert.equal(restore("to [EMAIL_1] and [EMAIL_2]"), "to ana@example.org and bob@example.org");
  const d = scanner.checkMessages(msgs);
  assert.equal(d.restore("[EMAIL_2]"), "bob@example.org");
  for (const x of [r, d]) {
    const wire = JSON.parse(JSON.stringify(x));
    assert.ok(!("restore" in wire) && !("toJSON" in wire));
    assert.deepEqual(wire.replacements, x.replacements);
    assert.deepEqual(wire.messages, x.messages);
  }
  assert.throws(() => restore(5), TypeError);
});
