// The shared conformance suite (tests/conformance/*.json), with spans checked
// in UTF-16 code units against text.slice(). Not a test file itself:
// conformance.test.mjs (ESM import) and conformance.test.cjs (require) run it,
// each loading the package by name through its `exports` map.
const { readFileSync, readdirSync } = require("node:fs");
const { join } = require("node:path");
const assert = require("node:assert/strict");

const dir = join(__dirname, "..", "..", "..", "tests", "conformance");

// UTF-8 byte offset -> UTF-16 index in the same string.
function utf16(text, byte) {
  return Buffer.from(text, "utf8").subarray(0, byte).toString("utf8").length;
}

function matches(want, got, text) {
  if (want.category !== got.category) return false;
  if (want.rule && want.rule !== got.rule) return false;
  if (want.span) {
    const s = utf16(text, want.span[0]);
    const e = utf16(text, want.span[1]);
    if (s !== got.start || e !== got.end) return false;
    assert.equal(text.slice(s, e), want.match, `slice of ${got.rule}`);
  }
  return true;
}

function runConformance(test, Scanner, label) {
  const scanner = new Scanner();
  let n = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "conversations.json").sort()) {
    const cases = JSON.parse(readFileSync(join(dir, file), "utf8"));
    for (const c of cases) {
      n++;
      test(`${label} ${file}/${c.name}`, () => {
        const report = scanner.scan(c.text);
        for (const f of report.findings) {
          assert.equal(c.text.slice(f.start, f.end), f.text, "native slice equals the finding's text");
        }
        if (typeof c.flagged === "boolean") assert.equal(report.flagged, c.flagged);
        for (const want of c.findings) {
          assert.ok(report.findings.some((g) => matches(want, g, c.text)), `missing ${JSON.stringify(want)} in ${JSON.stringify(report.findings)}`);
        }
        if (c.exact) {
          for (const g of report.findings) {
            assert.ok(c.findings.some((w) => matches(w, g, c.text)), `unexpected ${g.rule} ${g.start}..${g.end}`);
          }
        }
        if (typeof c.redacted === "string") {
          const r = scanner.redact(c.text);
          assert.equal(r.text, c.redacted);
          assert.equal(r.restore(r.text), c.text);
          for (const x of r.replacements) assert.equal(c.text.slice(x.start, x.end), x.original);
        }
      });
    }
  }
  test(`${label}: the suite is there`, () => assert.ok(n >= 20, `only ${n} cases`));
}

module.exports = { runConformance };
