// Type-checked with `lib: esnext` (tsconfig.disposable.json): where the lib
// declares Symbol.dispose, Scanner and Vault work with `using`.
import { Scanner, Vault } from "promptsieve";

export function once(prompt: string): string {
  using scanner = new Scanner();
  using vault = new Vault();
  const redacted = scanner.redact(prompt, { vault });
  return vault.restore(redacted.text);
}
