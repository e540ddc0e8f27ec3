// Generated from the Rust types by bindings/wasm/tests/typescript.rs: do not edit.
// `PROMPTSIEVE_WRITE_TYPES=1 cargo test -p promptsieve-wasm --test typescript` rewrites it.

/** Entity names of the default packs (rules/entities.toml) and their aliases; custom packs add their own. */
export type Entity = "CREDIT_CARD" | "EMAIL" | "EMAIL_ADDRESS" | "IBAN" | "IBAN_CODE" | "IP_ADDRESS" | "PERSON" | "PHONE" | "PHONE_NUMBER" | "SECRET" | "URL_CREDENTIALS" | "US_SSN" | (string & {});

/** An OpenAI-style chat message: content as a string or as parts (text parts are scanned). */
export interface Message {
  role: string;
  content?: string | Array<{ type: string; text?: string; [key: string]: unknown }> | null;
  [key: string]: unknown;
}

/** What to do with a request. */
export type Action = "allow" | "redact" | "block";

/** A log record of a scan that holds no text and no values: rule ids, counts per category and entity, sizes, the decision inputs, and a keyed hash of the input so repeated inputs can be correlated. */
export interface Audit {
  /** Input length in UTF-8 bytes. */
  bytes: number;
  /** Input length in characters. */
  chars: number;
  /** HMAC-SHA256 of the input under the caller's key, hex. */
  input_hmac: string;
  /** The attack risk. */
  risk: number;
  /** Whether the report was flagged. */
  flagged: boolean;
  /** Distinct rule ids that fired, sorted. */
  rules: string[];
  /** Finding counts per category. */
  categories: Record<string, number>;
  /** Finding counts per entity (personal data and secrets). */
  entities: Record<string, number>;
}

/** The kind of problem a finding describes. */
export type Category = "injection" | "invisible" | "exfiltration" | "pii" | "secret";

/** Per-call options of `Scanner::check_with`: where the text comes from, a policy for this call only, and how to redact. */
export interface CheckOptions {
  /** Where the text comes from (default: user input). */
  source?: Source;
  /** This call's policy instead of the scanner's. */
  policy?: Policy | null;
  /** Strategies, allow-listed values and per-entity thresholds. Which findings are redacted is the policy's `redact` list. */
  redact?: RedactOptions;
}

/** A decision in the caller's unit. */
export interface DecisionData {
  /** `allow`, `redact` or `block`. */
  action: Action;
  /** Why. */
  reasons: Reason[];
  /** The scan behind it. */
  report: ReportData;
  /** For `redact`: the text to send and how to restore the reply. */
  redacted: RedactedData | null;
}

/** One finding, spans in the caller's unit, with the matched text. */
export interface FindingData {
  /** Rule id. */
  rule: string;
  /** Category. */
  category: Category;
  /** Entity, for personal data and secrets (`null` otherwise). */
  entity: Entity | null;
  /** Start, in the caller's unit. */
  start: number;
  /** End, in the caller's unit. */
  end: number;
  /** Score in 0..=1. */
  score: number;
  /** The matched text. */
  text: string;
  /** What the rule saw (`null` when nothing more to say). */
  detail: string | null;
}

/** A message list's redaction. */
export interface MessagesData {
  /** The messages with values replaced. */
  messages: Message[];
  /** Every replacement, with its `message` and `part`. */
  replacements: ReplacementData[];
}

/** A message list's decision. */
export interface MessagesDecisionData {
  /** The strongest action over the messages. */
  action: Action;
  /** The reasons, prefixed with their message index. */
  reasons: Reason[];
  /** The messages to send (redacted for `redact`). */
  messages: Message[];
  /** Every replacement, with its `message` and `part`. */
  replacements: ReplacementData[];
  /** One report per text, with its `message` and `part`. */
  reports: Array<ReportData & { message: number; part: number | null; role: string }>;
}

/** What the application knows about the conversation, for `Scanner::scan_output`(crate::Scanner::scan_output). */
export interface OutputContext {
  /** Secret tokens planted in the system prompt; any of them in a reply means the prompt leaked. */
  canaries?: string[];
  /** The system prompt, to find long verbatim passages of it in a reply. */
  systemPrompt?: string | null;
  /** Hosts links may point to (a host matches itself and its subdomains). Empty: every link is allowed. */
  allowedHosts?: string[];
}

/** A rule pack given as data: TOML text, optionally with a name that errors report (unnamed packs are called `rules[i]`). */
export type PackSource = string | {
  /** The pack's name in errors and rule metadata. */
  name: string;
  /** TOML text. */
  source: string;
};

/** What `Scanner::check` enforces. A serde type (snake_case or camelCase keys, unknown keys refused); `max_bytes: null` means no limit. */
export interface Policy {
  /** Inputs longer than this many bytes are blocked without scanning. `None` accepts any length (scanning is linear, but memory is not free). */
  maxBytes?: number | null;
  /** Inputs longer than this many characters (code points) are blocked without scanning. */
  maxChars?: number | null;
  /** Block at this risk; `None` uses the scanner's threshold. */
  threshold?: number | null;
  /** Block on any finding of these categories or entities, whatever the risk. */
  block?: Target[];
  /** Redact findings of these categories or entities (when nothing blocks). */
  redact?: Target[];
}

/** Why a `Decision` blocks. */
export interface Reason {
  /** A stable code: `max-length`, `risk`, `category` or `redact`. */
  code: string;
  /** A human-readable explanation. */
  message: string;
  /** The rule most responsible, if any. */
  rule: string | null;
}

/** Which findings `redact` replaces, and how. A serde type: the bindings' redaction options are this, read from JSON (snake_case or camelCase keys; unknown keys are errors). */
export interface RedactOptions {
  /** The strategy for entities without an entry in `per_entity`. */
  strategy?: Strategy;
  /** Strategies by entity name (`EMAIL`, `PHONE`, `CREDIT_CARD`, …). */
  perEntity?: Partial<Record<Entity, Strategy>>;
  /** What is redacted: categories (`pii`, `secret`: the default) and entities (`PERSON`). */
  targets?: Target[];
  /** The key for `Strategy::Hash` (as UTF-8 text in configuration). */
  hashKey?: string;
  /** Values never redacted (exact match), e.g. the support desk's own address. */
  allow?: string[];
  /** Per-entity score thresholds: a finding of that entity scoring below is left alone. */
  thresholds?: Partial<Record<Entity, number>>;
}

/** A redaction in the caller's unit; enough to restore a reply later. */
export interface RedactedData {
  /** The redacted text. */
  text: string;
  /** The replacements, in text order. */
  replacements: ReplacementData[];
}

/** One replacement in the caller's unit. */
export interface ReplacementData {
  /** What stands in the redacted text. */
  placeholder: string;
  /** The entity. */
  entity: string;
  /** The category. */
  category: Category;
  /** The rule that found it. */
  rule: string;
  /** The original value. */
  original: string;
  /** Start in the original text, in the caller's unit. */
  start: number;
  /** End in the original text, in the caller's unit. */
  end: number;
  /** In a message list: the message index. */
  message?: number | null;
  /** In a message list: the content part index, if the content has parts. */
  part?: number | null;
}

/** A report in the caller's unit. */
export interface ReportData {
  /** Attack risk. */
  risk: number;
  /** Whether the risk reaches the threshold. */
  flagged: boolean;
  /** The findings. */
  findings: FindingData[];
}

/** Metadata about one compiled rule. */
export interface RuleInfo {
  /** The rule id. */
  id: string;
  /** The pack it came from. */
  pack: string;
  /** What it detects, from the pack. */
  description: string;
  /** How it matches: `phrases`, `regex`, `grammar`, `builtin`, or `model` for the learned scorer. */
  kind: "phrases" | "regex" | "grammar" | "builtin" | "model";
  /** Texts the rule must match (`examples.match`). */
  examples: string[];
  /** Texts the rule must not match (`examples.no_match`). */
  counterexamples: string[];
  /** Its category. */
  category: Category;
  /** Its entity, for personal data and secrets. */
  entity: Entity | null;
  /** Its base score (for the scorer: the least score it reports). */
  score: number;
}

/** Everything a `Scanner` is built from, as one serde value: what `new Scanner(options)` in JS and `Scanner(**options)` in Python read. Keys are snake_case, and camelCase is accepted too; unknown keys are errors. */
export interface ScannerConfig {
  /** Extra rule packs. */
  rules?: PackSource[];
  /** Include the embedded default packs (default true). */
  defaultRules?: boolean;
  /** Risk at or above which a report is flagged (default 0.5). */
  threshold?: number;
  /** Keep only rules of these categories (`None`: all). */
  categories?: Category[] | null;
  /** Rule ids to leave out; an id no pack defines is an error. */
  disable?: string[];
  /** What `Scanner::check` enforces. */
  policy?: Policy;
  /** Run the learned injection scorer (default true). */
  scorer?: boolean;
  /** Find person names with the learned name tagger (default true); false reports the name dictionaries' own spans. */
  tagger?: boolean;
}

/** What a scanned text is, as the caller knows it. Attack rules weigh their scores by it (each pack and rule may say how, with `weights`): a system prompt the developer wrote is not an attack on itself, while a retrieved document or a tool result that gives the model orders is the classic indirect injection. */
export type Source = "user" | "system" | "document" | "tool";

/** `"mask"` keeps 4 characters visible, `"mask:N"` keeps N; `"hash"` needs `hashKey`. */
export type Strategy = "placeholder" | "mask" | `mask:${number}` | "hash" | "remove";

/** A category (lower case) or an entity (upper case; Presidio's names are accepted). */
export type Target = Category | Entity;

/** Keeps placeholders stable across calls: the same value always maps to the same placeholder for the whole conversation, and one `restore` serves every reply. It round-trips through JSON (plain, or sealed with a key for storage the server does not control). */
export interface Vault {
  /** One entry per distinct value, in order of first appearance. */
  entries: VaultEntry[];
}

/** One value a `Vault` holds. */
export interface VaultEntry {
  /** The entity (`EMAIL`, …). */
  entity: string;
  /** The original value. */
  value: string;
  /** Its placeholder (`[EMAIL_1]`). */
  placeholder: string;
}

export type ScannerOptions = ScannerConfig;

export type RedactOptionsData = RedactOptions;

export type CheckOptionsData = CheckOptions;

export type RedactedMessages = MessagesData;

export type VaultData = Vault;
