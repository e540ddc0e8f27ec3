// Declarations of the package's API (js/api.js). The option and result
// shapes are the core's serde types (crates/promptsieve/src/config.rs,
// redact.rs, scanner.rs, bind.rs); test/types.test.mjs checks this file's
// field lists against the engine's JSON so the two cannot drift apart.

/** What a scanned text is. */
export type Source = "user" | "system" | "document" | "tool";
export type Category = "injection" | "invisible" | "exfiltration" | "pii" | "secret";
/** Entity names of the default packs; custom packs add their own. Presidio's aliases are accepted in options. */
export type Entity =
  | "EMAIL" | "PHONE" | "PERSON" | "CREDIT_CARD" | "IBAN" | "US_SSN" | "IP_ADDRESS" | "URL_CREDENTIALS" | "SECRET"
  | "EMAIL_ADDRESS" | "PHONE_NUMBER" | "IBAN_CODE"
  | (string & {});
/** A category (lower case) or an entity (upper case). */
export type Target = Category | Entity;
/** `"mask"` keeps 4 characters visible; `"mask:N"` keeps N. `"hash"` needs `hashKey`. */
export type Strategy = "placeholder" | "mask" | `mask:${number}` | "hash" | "remove";

export interface PolicyOptions {
  /** Inputs longer than this many UTF-8 bytes are blocked (`null`: no limit; default 1 MiB). */
  maxBytes?: number | null;
  /** Inputs longer than this many characters are blocked. */
  maxChars?: number | null;
  threshold?: number | null;
  block?: Target[];
  redact?: Target[];
}
/** A rule pack: TOML text, or TOML with a name that errors report. */
export type PackSource = string | { name: string; source: string };
export interface ScannerOptions {
  rules?: PackSource[];
  defaultRules?: boolean;
  threshold?: number;
  categories?: Category[] | null;
  /** Rule ids to leave out; an unknown id is an error. */
  disable?: string[];
  policy?: PolicyOptions;
  scorer?: boolean;
}
export interface RedactOptions {
  strategy?: Strategy;
  perEntity?: Partial<Record<Entity, Strategy>>;
  /** What is redacted (default `["pii", "secret"]`). */
  entities?: Target[];
  hashKey?: string;
  /** Values never redacted. */
  allow?: string[];
  /** Minimum score per entity. */
  thresholds?: Partial<Record<Entity, number>>;
  /** Numbers placeholders across a conversation. */
  vault?: Vault;
}
export interface CheckOptions {
  source?: Source;
  /** This call's policy instead of the scanner's. */
  policy?: PolicyOptions;
  redact?: Omit<RedactOptions, "vault">;
  vault?: Vault;
}
export interface OutputContext {
  canaries?: string[];
  systemPrompt?: string | null;
  allowedHosts?: string[];
}

/** One finding; `start`/`end` are UTF-16 offsets into the scanned string. */
export interface Finding {
  rule: string;
  category: Category;
  entity: Entity | null;
  start: number;
  end: number;
  score: number;
  text: string;
  detail: string | null;
}
export interface Report {
  risk: number;
  flagged: boolean;
  findings: Finding[];
}
export interface Replacement {
  placeholder: string;
  entity: Entity;
  category: Category;
  rule: string;
  original: string;
  start: number;
  end: number;
  /** In a message list: the message index. */
  message?: number;
  /** In a message list: the content part index. */
  part?: number | null;
}
export interface RedactedData {
  text: string;
  replacements: Replacement[];
}
/** A redaction result: plain data with a bound `restore`; `JSON.stringify` gives the data. */
export interface Redacted extends RedactedData {
  restore: (reply: string) => string;
  toJSON(): RedactedData;
}
export interface Reason {
  code: "max-length" | "risk" | "category" | "redact" | (string & {});
  message: string;
  rule: string | null;
}
export interface Decision {
  action: "allow" | "redact" | "block";
  reasons: Reason[];
  report: Report;
  /** For "redact": the text to send, and how to restore the reply. */
  redacted: Redacted | null;
  toJSON(): unknown;
}
/** An OpenAI-style chat message (content as a string or as parts). */
export interface Message {
  role: string;
  content?: string | Array<{ type: string; text?: string; [key: string]: unknown }> | null;
  [key: string]: unknown;
}
export interface RedactedMessages {
  messages: Message[];
  replacements: Replacement[];
}
export interface MessagesDecision {
  action: "allow" | "redact" | "block";
  reasons: Reason[];
  messages: Message[];
  replacements: Replacement[];
  reports: Array<Report & { message: number; part: number | null; role: string }>;
}
export interface RuleInfo {
  id: string;
  pack: string;
  description: string;
  kind: "phrases" | "regex" | "grammar" | "builtin" | "model";
  examples: string[];
  counterexamples: string[];
  category: Category;
  entity: Entity | null;
  score: number;
}
export interface ExampleFailure {
  pack: string;
  rule: string;
  text: string;
  expected_match: boolean;
  message: string;
}
/** A log record that never holds the text or the values. */
export interface Audit {
  bytes: number;
  chars: number;
  input_hmac: string;
  risk: number;
  flagged: boolean;
  rules: string[];
  categories: Record<string, number>;
  entities: Record<string, number>;
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

/** A compiled scanner. Build once, reuse. */
export class Scanner {
  constructor(options?: ScannerOptions);
  readonly threshold: number;
  scan(text: string, source?: Source): Report;
  sanitize(text: string): string;
  check(text: string, options?: CheckOptions): Decision;
  redact(text: string, options?: RedactOptions): Redacted;
  redactMessages(messages: Message[], options?: RedactOptions): RedactedMessages;
  checkMessages(messages: Message[], options?: CheckOptions): MessagesDecision;
  scanOutput(reply: string, context?: OutputContext): Report;
  outputStream(context?: OutputContext): OutputStream;
  rules(): RuleInfo[];
  verifyExamples(): ExampleFailure[];
  audit(text: string, key: string, source?: Source): Audit;
  /** Frees the native memory now (it is also freed when collected). */
  free(): void;
}
/** Placeholders for one conversation. */
export class Vault {
  constructor();
  readonly size: number;
  restore: (reply: string) => string;
  restorer(): StreamRestorer;
  toJSON(): { entries: Array<{ entity: string; value: string; placeholder: string }> };
  toSealedJSON(key: string): string;
  static fromJSON(data: string | ReturnType<Vault["toJSON"]>): Vault;
  static fromSealedJSON(sealed: string, key: string): Vault;
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
