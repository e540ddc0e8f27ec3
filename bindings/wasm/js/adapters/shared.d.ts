// Declarations of what the adapters share (shared.js): their errors and
// their common options. Each adapter's declarations re-export the errors.
import type { Decision, MessagesDecision, OutputContext, Policy, PromptsieveError, Reason, RedactOptions, Report, Scanner, Vault } from "promptsieve";

/** The prompt was refused: an attack, a blocked category or entity, an over-long text. */
export declare class PromptBlockedError extends PromptsieveError {
  readonly name: "PromptBlockedError";
  /** The rule most responsible, if any. */
  readonly rule: string | null;
  /** The first reason's code (`risk`, `category`, `max-length`, …). */
  readonly reason: string | null;
  readonly reasons: Reason[];
  /** The scanner's whole decision. */
  readonly decision: MessagesDecision | Decision;
}

/** The model's reply was flagged (a canary, the system prompt, an exfiltration link) and withheld from then on. */
export declare class ReplyBlockedError extends PromptsieveError {
  readonly name: "ReplyBlockedError";
  /** The first rule (in order) that fired. */
  readonly rule: string | null;
  /** The output scan of the reply so far. */
  readonly report: Report;
}

/** Options of a guarded model call (the AI SDK middleware, the OpenAI wrapper); `P` is what `getVault` is given. */
export interface CallOptions<P> {
  /** The scanner (default: `new Scanner()`, the built-in packs). */
  scanner?: Scanner;
  /** `"check"` (default): block with `PromptBlockedError` or redact, as the policy says; `"redact"`: only redact. */
  mode?: "check" | "redact";
  /** The check's policy instead of the scanner's (mode `"check"`). */
  policy?: Policy;
  /** Redaction options: strategies, `allow`, thresholds (and, for mode `"redact"`, `entities`). */
  redact?: Omit<RedactOptions, "vault">;
  /** The vault of one conversation: every call numbers its values through it. */
  vault?: Vault;
  /** Picks the conversation's vault for a call (return `undefined` for the adapter's default). */
  getVault?: (params: P) => Vault | undefined;
  /** Scan the reply: canaries, the system prompt (as the model saw it), allowed link hosts. */
  output?: OutputContext | null;
  /** What a flagged reply does: `"error"` (default) or `"finish"` (the reply ends as content-filtered). */
  onFlagged?: "error" | "finish";
}

/** A `Map`-like store of vaults by conversation key (a `Map`, an LRU cache). */
export interface VaultStore {
  get(key: string): Vault | undefined;
  set(key: string, vault: Vault): unknown;
}
