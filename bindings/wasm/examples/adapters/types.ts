// Type-checked use of the adapters' declarations (tsc --strict, in the test
// suite: test/adapter-examples.test.mjs), with what they must refuse.
import { wrapLanguageModel, type LanguageModelMiddleware } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import OpenAI from "openai";
import { AIMessageChunk } from "@langchain/core/messages";
import { Scanner, Vault } from "promptsieve";
import { promptsieveMiddleware, PromptBlockedError, ReplyBlockedError, type MiddlewareOptions } from "promptsieve/ai";
import { wrap } from "promptsieve/openai";
import { Deanonymizer, PromptsieveGuard, ReversibleAnonymizer } from "promptsieve/langchain";
import type { BaseMessage } from "@langchain/core/messages";

const scanner = new Scanner();
const vaults = new Map<string, Vault>();
const options: MiddlewareOptions = { scanner, vaults, policy: { block: ["secret"] }, output: { canaries: ["c"], allowedHosts: ["example.com"] }, onFlagged: "finish" };
const middleware: LanguageModelMiddleware = promptsieveMiddleware(options);
wrapLanguageModel({ model: new MockLanguageModelV3(), middleware });
promptsieveMiddleware({ getVault: (params) => vaults.get(String(params.headers?.["x-chat"])) });
// @ts-expect-error: not a mode.
promptsieveMiddleware({ mode: "block" });
// @ts-expect-error: an unknown option.
promptsieveMiddleware({ canaries: ["c"] });

const client: OpenAI = wrap(new OpenAI({ apiKey: "k" }), { vault: new Vault(), mode: "redact", redact: { entities: ["EMAIL"] } });
void client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).then((c) => c.choices[0].message.content);
// @ts-expect-error: onFlagged is "error" or "finish".
wrap(new OpenAI({ apiKey: "k" }), { onFlagged: "stop" });

const anonymizer = new ReversibleAnonymizer({ scanner, redact: { allow: ["help@example.com"] } });
const guard = new PromptsieveGuard<string>({ action: "block", source: "document" });
const d: Deanonymizer<BaseMessage> = anonymizer.deanonymizer;
const strings = new Deanonymizer<string>({ vault: anonymizer.vault });
void strings.invoke("[EMAIL_1]").then((s) => s.toUpperCase());
new Deanonymizer({ vault: anonymizer.vault, output: { canaries: ["c"] } });
// @ts-expect-error: a deanonymizer needs the vault.
new Deanonymizer({});
void guard.invoke("text").then((s) => s.length);
void d.invoke(new AIMessageChunk("x"));
const restored: { to: string } = anonymizer.deanonymize({ to: "[EMAIL_1]" });

function report(e: unknown): string | null {
  if (e instanceof PromptBlockedError) return `${e.reason} ${e.rule} ${e.reasons.length} ${e.decision.action}`;
  if (e instanceof ReplyBlockedError) return `${e.rule} ${e.report.flagged}`;
  return null;
}
console.log(restored.to, report(null));
