// Declarations of `promptsieve/ai` (ai.js): the middleware is the AI SDK's
// own `LanguageModelMiddleware` type (specification version v3, `ai` 6).
import type { LanguageModelMiddleware } from "ai";
import type { CallOptions, VaultStore } from "./shared.js";
export { PromptBlockedError, ReplyBlockedError } from "./shared.js";
export type { VaultStore } from "./shared.js";

/** What a language model call is given (`LanguageModelV3CallOptions`). */
export type ModelCallOptions = Parameters<NonNullable<LanguageModelMiddleware["transformParams"]>>[0]["params"];

export interface MiddlewareOptions extends CallOptions<ModelCallOptions> {
  /**
   * Vaults by conversation, for calls made with
   * `providerOptions: { promptsieve: { conversation: "<id>" } }` (default: the
   * 1024 most recently used; a `Map` keeps them all).
   */
  vaults?: VaultStore;
}

/**
 * A language-model middleware for `wrapLanguageModel({ model, middleware })`:
 * checks and redacts the prompt, restores the reply (streams included), and
 * with `output` scans it and cuts it when flagged.
 */
export declare function promptsieveMiddleware(options?: MiddlewareOptions): LanguageModelMiddleware & { specificationVersion: "v3" };
