// Declarations of the package's API (js/api.js). Every option and result
// shape comes from ./types.js, generated from the core's Rust types
// (bindings/wasm/tests/typescript.rs); this file only adds what the JS
// layer itself provides: classes, the bound `restore`, the `vault` option.
import type {
  Audit, CheckOptions as CheckOptionsData, DecisionData, FindingData, Message, MessagesData,
  MessagesDecisionData, OutputContext, RedactOptions as RedactOptionsData, RedactedData, ReplacementData,
  ReportData, RuleInfo, ScannerConfig, Source, Target, VaultData,
} from "./types.js";
export type {
  Action, Audit, Category, Entity, Message, OutputContext, PackSource, Policy, Reason, RuleInfo, Source,
  Strategy, Target, VaultData, VaultEntry,
} from "./types.js";

export type ScannerOptions = ScannerConfig;
export type Finding = FindingData;
export type Report = ReportData;
export type Replacement = ReplacementData;
/** A message list's redaction: plain data with a bound `restore` for the reply. */
export interface RedactedMessages extends MessagesData {
  restore: (reply: string) => string;
  toJSON(): MessagesData;
}
/** A message list's decision: plain data with a bound `restore` for the reply. */
export interface MessagesDecision extends MessagesDecisionData {
  restore: (reply: string) => string;
  toJSON(): MessagesDecisionData;
}
export type { RedactedData };
/** Redaction options; `entities` is the JS name of `targets`, `vault` numbers placeholders across a conversation. */
export interface RedactOptions extends RedactOptionsData {
  entities?: Target[];
  vault?: Vault;
}
/** Check options, with the conversation's `vault`. */
export interface CheckOptions extends CheckOptionsData {
  vault?: Vault;
}
/** A redaction result: plain data with a bound `restore`; `JSON.stringify` gives the data. */
export interface Redacted extends RedactedData {
  restore: (reply: string) => string;
  toJSON(): RedactedData;
}
/** A decision; `redacted` restores the reply. */
export interface Decision extends Omit<DecisionData, "redacted"> {
  redacted: Redacted | null;
  toJSON(): DecisionData;
}
export interface ExampleFailure {
  pack: string;
  rule: string;
  text: string;
  expected_match: boolean;
  message: string;
}
export interface StreamRestorer {
  push(chunk: string): string;
  finish(): string;
  /** UTF-8 bytes held back (at most the longest placeholder). */
  held(): number;
}
export interface OutputStream {
  /** Adds a chunk; returns the findings it revealed. */
  push(chunk: string): Finding[];
  /** The reply so far is flagged: stop streaming it. */
  readonly shouldStop: boolean;
  /** The report on the whole reply (equal to `scanOutput` on it). */
  finish(): Report;
}

/**
 * `{ [Symbol.dispose](): void }` where the `lib` setting declares
 * `Symbol.dispose` (esnext, `using` declarations), `{}` where it does not
 * (es2022): naming `Symbol.dispose` directly would fail there.
 */
type Disposable_ = SymbolConstructor extends { readonly dispose: infer K extends symbol } ? { [P in K]: () => void } : {};

export interface Scanner extends Disposable_ {}
/** A compiled scanner. Build once, reuse. */
export class Scanner {
  constructor(options?: ScannerOptions);
  readonly threshold: number;
  scan(text: string, source?: Source): Report;
  sanitize(text: string): string;
  check(text: string, options?: CheckOptions | Source): Decision;
  redact(text: string, options?: RedactOptions): Redacted;
  redactMessages(messages: Message[], options?: RedactOptions): RedactedMessages;
  checkMessages(messages: Message[], options?: CheckOptions): MessagesDecision;
  scanOutput(reply: string, context?: OutputContext): Report;
  outputStream(context?: OutputContext): OutputStream;
  rules(): RuleInfo[];
  verifyExamples(): ExampleFailure[];
  audit(text: string, key: string, source?: Source): Audit;
  /** Frees the native memory now (it is also freed when collected); `using` calls it too. */
  free(): void;
}
export interface Vault extends Disposable_ {}
/** Placeholders for one conversation. */
export class Vault {
  constructor();
  readonly size: number;
  restore: (reply: string) => string;
  restorer(): StreamRestorer;
  toJSON(): VaultData;
  toSealedJSON(key: string): string;
  static fromJSON(data: string | VaultData): Vault;
  static fromSealedJSON(sealed: string, key: string): Vault;
  /** Frees the native memory now (it is also freed when collected); `using` calls it too. */
  free(): void;
}
export const Redacted: {
  /** Rebuilds a result kept across requests (from `JSON.stringify(redacted)`). */
  fromJSON(data: string | RedactedData): Redacted;
};
/** Restores a streamed reply; holds back only a possible partial placeholder. */
export function restoreStream(vault: Vault): TransformStream<string, string>;
export function version(): string;

/** Base class of the errors this package throws (invalid options). */
export class PromptsieveError extends Error {}
/** A rule pack or rule was refused; names the pack, the rule and the reason. */
export class RuleError extends PromptsieveError {
  readonly pack: string | null;
  readonly rule: string | null;
  readonly reason: string | null;
}
