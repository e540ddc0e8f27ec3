// `promptsieve/langchain`: Runnables for LangChain.js (`@langchain/core`),
// the counterparts of the Python wheel's `promptsieve.langchain`:
//
// - PromptsieveGuard checks what goes to the model (a string, a prompt
//   value, messages, or a dict of prompt variables) and throws
//   `PromptBlockedError` when the policy blocks; the input passes on as it
//   came.
// - ReversibleAnonymizer replaces personal data and secrets with
//   placeholders numbered through one vault (one anonymizer per
//   conversation; earlier assistant turns are redacted too, so values
//   restored into them go back to the model as placeholders).
// - Deanonymizer (`anonymizer.deanonymizer`) restores the reply: a string
//   or a message, and, streamed, `string` or `AIMessageChunk` chunks through
//   the vault's stream restorer, so no placeholder, whole or partial, is
//   ever emitted. With `output` it also scans the reply and throws
//   `ReplyBlockedError` (mid-stream, as soon as the reply is flagged).
//
// Runnables are LangChain's classes, so this module imports
// `@langchain/core` (the optional peer dependency); the package's other
// entry points never do.
import { Runnable } from "@langchain/core/runnables";
import { coerceMessageLikeToMessage, isBaseMessage } from "@langchain/core/messages";
import { ChatPromptValue, StringPromptValue } from "@langchain/core/prompt_values";
import { PromptBlockedError, ReplyBlockedError, protect, restoreValue, settings, vaultOf, watch } from "./shared.js";
import { Vault } from "promptsieve";

export { PromptBlockedError, ReplyBlockedError };

// LangChain's message types, as the engine's (OpenAI's) roles.
const ROLES = { human: "user", ai: "assistant", system: "system", developer: "developer", tool: "tool", function: "tool" };
const roleOf = (m) => (m.type === "generic" ? String(m.role ?? "user") : (ROLES[m.type] ?? "user"));

/** `[index, part, text]` of every text of a message: its content string, or its text parts. */
function texts(m) {
  if (typeof m.content === "string") return [[null, m.content]];
  if (!Array.isArray(m.content)) return [];
  return m.content.flatMap((p, j) => {
    if (typeof p === "string") return [[j, p]];
    if (p && p.type === "text" && typeof p.text === "string") return [[j, p.text]];
    return [];
  });
}

/** A message like `m` (same class, same fields) with other content. */
function withContent(m, content) {
  const fields = {};
  for (const k of Object.keys(m.lc_kwargs ?? {})) fields[k] = k in m ? m[k] : m.lc_kwargs[k];
  delete fields.contentBlocks;
  return new m.constructor({ ...fields, content });
}

/** `content` with `f` applied to each of its texts, in order. */
function mapContent(content, f) {
  if (typeof content === "string") return f(content);
  if (!Array.isArray(content)) return content;
  return content.map((p) => {
    if (typeof p === "string") return f(p);
    if (p && p.type === "text" && typeof p.text === "string") return { ...p, text: f(p.text) };
    return p;
  });
}

/** The messages of a value a chat model takes, or null when it is text. */
function messagesOf(value) {
  if (value instanceof ChatPromptValue) return value.messages;
  if (isBaseMessage(value)) return [value];
  if (Array.isArray(value)) return value.map((m) => (isBaseMessage(m) ? m : coerceMessageLikeToMessage(m)));
  return null;
}

/** Slots of a message list, and the list that `set` rebuilds. */
function messageSlots(messages) {
  const out = [...messages];
  const slots = [];
  messages.forEach((m, i) => {
    const role = roleOf(m);
    for (const [j, text] of texts(m)) {
      slots.push({
        role,
        text,
        message: i,
        set: (t) => {
          const cur = out[i];
          if (j === null) {
            out[i] = withContent(cur, t);
          } else {
            const parts = [...cur.content];
            parts[j] = typeof parts[j] === "string" ? t : { ...parts[j], text: t };
            out[i] = withContent(cur, parts);
          }
        },
      });
    }
  });
  return { out, slots };
}

/**
 * Slots of anything a chat model (or a prompt template) takes, and `build()`
 * for the value of the same kind with the slots' texts: a string, a prompt
 * value, a message, messages, or a dict of prompt variables (its strings
 * and messages; other values pass as they are).
 */
function valueSlots(value, role) {
  if (typeof value === "string") {
    let text = value;
    return { slots: [{ role, text, set: (t) => (text = t) }], build: () => text };
  }
  if (value instanceof StringPromptValue) {
    const inner = valueSlots(value.value, role);
    return { slots: inner.slots, build: () => new StringPromptValue(inner.build()) };
  }
  const messages = messagesOf(value);
  if (messages !== null) {
    const { out, slots } = messageSlots(messages);
    const build = () => {
      if (value instanceof ChatPromptValue) return new ChatPromptValue(out);
      return isBaseMessage(value) ? out[0] : out;
    };
    return { slots, build };
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value).map(([k, v]) =>
      typeof v === "string" || messagesOf(v) !== null || v instanceof StringPromptValue || v instanceof ChatPromptValue ? [k, valueSlots(v, role)] : [k, v],
    );
    return {
      slots: entries.flatMap(([, v]) => (v && v.slots ? v.slots : [])),
      build: () => Object.fromEntries(entries.map(([k, v]) => [k, v && v.slots ? v.build() : v])),
    };
  }
  throw new TypeError(`promptsieve cannot read a ${value?.constructor?.name ?? typeof value}: give a string, a prompt value, messages or prompt variables`);
}

/**
 * Checks what goes to the model with the scanner's policy (each message as
 * its role: system prompts, user input and tool results are weighed as what
 * they are) and throws `PromptBlockedError` when it blocks. With
 * `action: "block"` personal data and secrets are refused too; with the
 * default `"redact"` they pass (put a `ReversibleAnonymizer` after the
 * guard). `source` is what a plain string is (`"user"` unless told).
 */
export class PromptsieveGuard extends Runnable {
  static lc_name() {
    return "PromptsieveGuard";
  }
  lc_namespace = ["promptsieve", "langchain"];
  #s;
  #action;
  #source;

  constructor(options = {}) {
    super();
    const { action = "redact", source = "user", ...rest } = options ?? {};
    if (action !== "redact" && action !== "block") throw new TypeError(`guard action must be "redact" or "block", not ${JSON.stringify(action)}`);
    this.#s = settings(rest, ["scanner", "policy"]);
    this.#action = action;
    this.#source = source;
  }

  /** The scanner's decision on `value` (a `Decision`, or a `MessagesDecision` for messages), throwing `PromptBlockedError` when it blocks. */
  check(value) {
    const s = this.#s;
    const text = typeof value === "string" ? value : value instanceof StringPromptValue ? value.value : null;
    let decision;
    if (text !== null) {
      decision = s.scanner.check(text, { source: this.#source, policy: s.policy });
      if (decision.action === "block") throw new PromptBlockedError(decision);
    } else {
      // A scratch vault: the guard decides, the anonymizer numbers.
      decision = protect(s, valueSlots(value, "user").slots, new Vault());
    }
    if (decision && decision.action === "redact" && this.#action === "block") {
      const replacements = decision.replacements ?? decision.redacted?.replacements ?? [];
      throw new PromptBlockedError({
        ...decision,
        reasons: [{ code: "personal-data", message: "the prompt contains personal data or secrets", rule: replacements[0]?.rule ?? null }],
      });
    }
    return decision;
  }

  async invoke(input, options) {
    return this._callWithConfig((value) => (this.check(value), Promise.resolve(value)), input, options);
  }
}

/**
 * Replaces personal data and secrets with placeholders through one `Vault`
 * (`vault`, or a new one): the same value keeps its placeholder in every
 * turn. Keep one anonymizer per conversation. It gives back what it was
 * given (a string, a prompt value, messages, prompt variables); `redact`
 * holds `Scanner.redact`'s options (`entities`, `allow`, strategies).
 */
export class ReversibleAnonymizer extends Runnable {
  static lc_name() {
    return "ReversibleAnonymizer";
  }
  lc_namespace = ["promptsieve", "langchain"];
  #s;
  /** The conversation's vault. */
  vault;

  constructor(options = {}) {
    super();
    this.#s = { ...settings(options, ["scanner", "vault", "redact"]), mode: "redact" };
    this.vault = vaultOf(this.#s, []);
  }

  /** A `Deanonymizer` over this anonymizer's vault (`output`: scan the reply too). */
  get deanonymizer() {
    return new Deanonymizer({ vault: this.vault, scanner: this.#s.scanner });
  }

  /** `value` with its personal data and secrets replaced. */
  anonymize(value) {
    const { slots, build } = valueSlots(value, "user");
    protect(this.#s, slots, this.vault);
    return build();
  }

  /** Puts the original values back: in a string, or in every string of a value (tool-call arguments). */
  deanonymize(value) {
    return restoreValue(this.vault, value);
  }

  async invoke(input, options) {
    return this._callWithConfig((value) => Promise.resolve(this.anonymize(value)), input, options);
  }
}

/**
 * Restores a reply through `vault`: a string or a message, and, streamed,
 * `string` or `AIMessageChunk` chunks. Text that cannot be part of a
 * placeholder goes out at once; only a possibly unfinished placeholder waits
 * for the next chunk, and what is held at the end goes out in one more
 * chunk (with the last chunk's id, so `concat` joins it). Tool-call
 * arguments are left as the model wrote them: `anonymizer.deanonymize(args)`
 * restores them where a tool needs the values.
 *
 * With `output` (an `OutputContext`) the model's text is scanned too (with
 * its placeholders, so the user's own values are never a leak) and a
 * flagged reply throws `ReplyBlockedError`: in a stream, as soon as what
 * has arrived is flagged, the chunk that showed it withheld.
 */
export class Deanonymizer extends Runnable {
  static lc_name() {
    return "Deanonymizer";
  }
  lc_namespace = ["promptsieve", "langchain"];
  #s;
  vault;

  constructor(options = {}) {
    super();
    if (!(options?.vault instanceof Vault)) throw new TypeError("Deanonymizer needs { vault }: the anonymizer's Vault");
    this.#s = settings(options, ["vault", "scanner", "output"]);
    this.vault = options.vault;
  }

  /** The reply (a string or a message) restored, after the output scan. */
  deanonymize(value) {
    const w = watch(this.#s);
    if (w) {
      mapContent(typeof value === "string" ? value : value.content, (t) => (w.push(t), t));
      const report = w.finish();
      if (report.flagged) throw new ReplyBlockedError(report);
    }
    if (typeof value === "string") return this.vault.restore(value);
    return withContent(value, mapContent(value.content, this.vault.restore));
  }

  async invoke(input, options) {
    return this._callWithConfig((value) => Promise.resolve(this.deanonymize(value)), input, options);
  }

  async *transform(generator, options) {
    yield* this._transformStreamWithConfig(generator, (chunks) => this.#restoreChunks(chunks), options);
  }

  async *#restoreChunks(chunks) {
    const r = this.vault.restorer();
    const w = watch(this.#s);
    const push = (text) => {
      if (w && w.push(text)) throw new ReplyBlockedError(w.finish());
      return r.push(text);
    };
    let last = null;
    for await (const chunk of chunks) {
      last = chunk;
      if (typeof chunk === "string") {
        const out = push(chunk);
        if (out) yield out;
      } else {
        yield withContent(chunk, mapContent(chunk.content, push));
      }
    }
    if (w) {
      const report = w.finish();
      if (report.flagged) throw new ReplyBlockedError(report);
    }
    const rest = r.finish();
    if (!rest) return;
    if (last === null || typeof last === "string") yield rest;
    else yield new last.constructor({ content: rest, id: last.id });
  }
}
