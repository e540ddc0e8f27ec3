// Redaction strategies and the options' spellings: keyed hashing, remove,
// mask:N, Presidio's entity names wherever an entity is named, the
// snake_case aliases, and the input limit (null: none).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Scanner } from "promptsieve";

const scanner = new Scanner();
const TEXT = "mail ana@example.org, IBAN DE89 3704 0044 0532 0130 00";

test("hash: keyed and stable per key, never the value", () => {
  const a = scanner.redact(TEXT, { strategy: "hash", hashKey: "k1" });
  assert.match(a.text, /^mail \[EMAIL:[0-9a-f]{12}\], IBAN \[IBAN:[0-9a-f]{12}\]$/);
  assert.equal(scanner.redact(TEXT, { strategy: "hash", hashKey: "k1" }).text, a.text);
  assert.notEqual(scanner.redact(TEXT, { strategy: "hash", hashKey: "k2" }).text, a.text);
  assert.equal(scanner.redact(TEXT, { strategy: "hash", hash_key: "k1" }).text, a.text, "the snake_case alias");
  assert.ok(!a.text.includes("ana"));
});

test("remove and mask:N", () => {
  assert.equal(scanner.redact(TEXT, { strategy: "remove" }).text, "mail , IBAN ");
  assert.equal(scanner.redact("ana@example.org", { strategy: "mask:2" }).text, "***@*******.*rg");
  assert.equal(scanner.redact("ana@example.org", { strategy: "mask" }).text, "***@******e.org");
  assert.throws(() => scanner.redact("x", { strategy: "mask:x" }), /mask:x/);
});

test("Presidio's entity names are accepted wherever an entity is named", () => {
  const per = scanner.redact(TEXT, { perEntity: { EMAIL_ADDRESS: "mask", IBAN_CODE: "remove" } }).text;
  assert.equal(per, "mail ***@******e.org, IBAN ");
  assert.equal(scanner.redact(TEXT, { entities: ["IBAN_CODE"] }).text, "mail ana@example.org, IBAN [IBAN_1]");
  // The email scores 0.95: a threshold above it leaves it alone.
  assert.equal(scanner.redact(TEXT, { thresholds: { EMAIL_ADDRESS: 0.99 } }).text, "mail ana@example.org, IBAN [IBAN_1]");
  assert.equal(scanner.check("mail ana@example.org", { policy: { block: ["EMAIL_ADDRESS"] } }).action, "block");
  assert.equal(scanner.redact(TEXT, { per_entity: { EMAIL: "mask" } }).text, "mail ***@******e.org, IBAN [IBAN_1]", "the snake_case alias");
});

test("check's redact options choose the strategy", () => {
  assert.equal(scanner.check("mail ana@example.org", { redact: { strategy: "mask" } }).redacted.text, "mail ***@******e.org");
  assert.throws(() => scanner.check("x", { redact: { strategy: "hash" } }), /hash_key|hashKey/);
});

test("the input limit: 1 MiB by default, none with maxBytes null", () => {
  const big = "x".repeat(1_100_000);
  const reasons = scanner.check(big).reasons;
  assert.equal(reasons[0].code, "max-length");
  assert.equal(reasons[0].rule, null);
  assert.deepEqual(new Scanner({ policy: { maxBytes: null } }).check(big).reasons, []);
  assert.equal(new Scanner({ policy: { max_bytes: 10 } }).check("x".repeat(11)).reasons[0].code, "max-length", "the snake_case alias");
});
