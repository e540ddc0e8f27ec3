// Declarations of `promptsieve/openai` (openai.js): the wrapped client has
// the client's own type.
import type { CallOptions, VaultStore } from "./shared.js";
export { PromptBlockedError, ReplyBlockedError } from "./shared.js";
export type { VaultStore } from "./shared.js";

/** The shape `wrap` needs: an OpenAI client (`new OpenAI(...)` of the `openai` package). */
export interface OpenAIClientLike {
  chat: { completions: { create(body: any, options?: any): PromiseLike<unknown> } };
  responses: { create(body: any, options?: any): PromiseLike<unknown> };
}

export interface WrapOptions extends CallOptions<Record<string, unknown>> {
  /**
   * Vaults of the Responses API's server-side conversations, by
   * `conversation` id and by response id (for `previous_response_id`):
   * default the 1024 most recently used (a `Map` keeps them all).
   */
  vaults?: VaultStore;
}

/**
 * The client with `chat.completions.create` and `responses.create` guarded
 * (prompts checked and redacted, replies and streams restored, with
 * `output` scanned); the helpers `stream`, `parse` and `runTools` throw.
 */
export declare function wrap<C extends OpenAIClientLike>(client: C, options?: WrapOptions): C;
