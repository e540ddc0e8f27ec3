// Declarations of `promptsieve/langchain` (langchain.js): Runnables of
// `@langchain/core`.
import { Runnable } from "@langchain/core/runnables";
import type { BaseMessage, BaseMessageLike } from "@langchain/core/messages";
import type { BasePromptValueInterface } from "@langchain/core/prompt_values";
import type { Decision, MessagesDecision, OutputContext, Policy, RedactOptions, Scanner, Source, Vault } from "promptsieve";
export { PromptBlockedError, ReplyBlockedError } from "./shared.js";

/** What the guard and the anonymizer take: what a chat model or a prompt template takes. */
export type ModelInput = string | BasePromptValueInterface | BaseMessage | BaseMessageLike[] | Record<string, unknown>;
/** What the deanonymizer takes and gives: what a chat model or a string output parser gives. */
export type ModelOutput = string | BaseMessage;

export interface GuardOptions {
  scanner?: Scanner;
  /** `"redact"` (default): personal data passes (anonymize it next); `"block"`: it is refused too. */
  action?: "redact" | "block";
  /** The check's policy instead of the scanner's. */
  policy?: Policy;
  /** What a plain string is (default `"user"`). */
  source?: Source;
}

/** Checks the input and throws `PromptBlockedError` when the policy blocks; the input passes on unchanged. */
export declare class PromptsieveGuard<T extends ModelInput = ModelInput> extends Runnable<T, T> {
  lc_namespace: string[];
  constructor(options?: GuardOptions);
  /** The scanner's decision (null for an input without text), throwing `PromptBlockedError` when it blocks. */
  check(value: T): Decision | MessagesDecision | null;
  invoke(input: T, options?: Partial<import("@langchain/core/runnables").RunnableConfig>): Promise<T>;
}

export interface AnonymizerOptions {
  scanner?: Scanner;
  /** The conversation's vault (default: a new one). */
  vault?: Vault;
  /** `Scanner.redact`'s options: `entities`, `allow`, strategies, thresholds. */
  redact?: Omit<RedactOptions, "vault">;
}

/** Replaces personal data and secrets with placeholders numbered through one vault (one anonymizer per conversation). */
export declare class ReversibleAnonymizer<T extends ModelInput = ModelInput> extends Runnable<T, T> {
  lc_namespace: string[];
  readonly vault: Vault;
  constructor(options?: AnonymizerOptions);
  /** A `Deanonymizer` over this anonymizer's vault, for a chat model's messages. */
  get deanonymizer(): Deanonymizer<BaseMessage>;
  anonymize(value: T): T;
  /** The original values put back, in a string or in every string of a value (tool-call arguments). */
  deanonymize<V>(value: V): V;
  invoke(input: T, options?: Partial<import("@langchain/core/runnables").RunnableConfig>): Promise<T>;
}

export interface DeanonymizerOptions {
  vault: Vault;
  scanner?: Scanner;
  /** Scan the reply too; a flagged one throws `ReplyBlockedError`. */
  output?: OutputContext | null;
}

/**
 * Restores a reply (a string or a message; streamed, `string` or
 * `AIMessageChunk` chunks) through a vault. `T` is what it is given and
 * gives back: a message by default (after a chat model); after a string
 * output parser, `new Deanonymizer<string>({ vault })`.
 */
export declare class Deanonymizer<T extends ModelOutput = BaseMessage> extends Runnable<T, T> {
  lc_namespace: string[];
  readonly vault: Vault;
  constructor(options: DeanonymizerOptions);
  deanonymize(value: T): T;
  invoke(input: T, options?: Partial<import("@langchain/core/runnables").RunnableConfig>): Promise<T>;
  transform(generator: AsyncGenerator<T>, options?: Partial<import("@langchain/core/runnables").RunnableConfig>): AsyncGenerator<T>;
}
