// What the generated types refuse at compile time (each line must fail
// `tsc`, or `@ts-expect-error` itself is an error), mirroring what the
// engine refuses at run time.
import { Scanner, Vault, type Finding } from "promptsieve";

const s = new Scanner();
// @ts-expect-error: an unknown option key.
new Scanner({ treshold: 0.5 });
// @ts-expect-error: not a strategy.
s.redact("x", { strategy: "shred" });
// @ts-expect-error: a per-entity strategy must be a Strategy too.
s.redact("x", { perEntity: { EMAIL: "shred" } });
// @ts-expect-error: not a source.
s.scan("x", "email");
// @ts-expect-error: categories are lower case.
new Scanner({ categories: ["PII"] });
// @ts-expect-error: a vault is a Vault, not its JSON.
s.check("x", { vault: new Vault().toJSON() });
// @ts-expect-error: text must be a string.
s.scan(123);
export function entityOf(f: Finding): string {
  // @ts-expect-error: entity may be null.
  return f.entity.toLowerCase();
}
