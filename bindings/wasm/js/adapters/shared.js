// What the framework adapters (ai.js, langchain.js, openai.js) share: their
// common options, the two errors they throw, and both halves of a guarded
// call, written over the package's own API. A request's texts go to the
// engine as one message list (`checkMessages` or `redactMessages`, numbered
// through one vault); a reply comes back through that vault (`restore`, and
// `restorer()` for streams, the logic `restoreStream` is built on) and,
// when asked, the output scanner (`outputStream`). Nothing here detects
// anything: each adapter only finds the texts in its framework's shapes.
import { Scanner, Vault, PromptsieveError } from "promptsieve";

/** The prompt was refused: an attack, a blocked category or entity, an over-long text. */
export class PromptBlockedError extends PromptsieveError {
  constructor(decision) {
    // The first reason that blocks (a message list also says what it would redact).
    const first = decision.reasons.find((r) => r.code !== "redact") ?? decision.reasons[0] ?? null;
    super(`the prompt was rejected${first ? `: ${first.message}` : ""}`);
    this.name = "PromptBlockedError";
    this.rule = first?.rule ?? null;
    this.reason = first?.code ?? null;
    this.reasons = decision.reasons;
    this.decision = decision;
  }
}

/** The model's reply was flagged (a canary, the system prompt, an exfiltration link) and withheld from then on. */
export class ReplyBlockedError extends PromptsieveError {
  constructor(report) {
    const rules = [...new Set(report.findings.map((f) => f.rule))].sort();
    super(`the model's reply was withheld: ${rules.join(", ")}`);
    this.name = "ReplyBlockedError";
    this.rule = rules[0] ?? null;
    this.report = report;
  }
}

const fail = (message) => {
  throw new PromptsieveError(message);
};

/**
 * Reads an adapter's options: `allowed` names the keys it takes (its own
 * among them, which it reads itself). Unknown keys and bad values are
 * errors now, not on the first request, as the engine's own options are.
 */
export function settings(options, allowed) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object" || Array.isArray(options)) throw new TypeError("options must be an object");
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) fail(`unknown option \`${k}\`, expected one of ${allowed.map((x) => `\`${x}\``).join(", ")}`);
  }
  const { scanner = new Scanner(), mode = "check", policy, redact, vault, getVault, output = null, onFlagged = "error" } = options;
  if (!(scanner instanceof Scanner)) throw new TypeError("scanner must be a Scanner");
  if (mode !== "check" && mode !== "redact") fail(`mode must be "check" or "redact", not ${JSON.stringify(mode)}`);
  if (onFlagged !== "error" && onFlagged !== "finish") fail(`onFlagged must be "error" or "finish", not ${JSON.stringify(onFlagged)}`);
  if (vault !== undefined && !(vault instanceof Vault)) throw new TypeError("vault must be a Vault");
  if (getVault !== undefined && typeof getVault !== "function") throw new TypeError("getVault must be a function");
  if (mode === "redact" && policy !== undefined) fail('policy applies to mode "check" only');
  // The engine validates the rest now: a policy or redaction option it
  // refuses, an output context with a bad key.
  if (mode === "check") scanner.check("", { policy, redact });
  else scanner.redact("", redact);
  if (output !== null) scanner.scanOutput("", output);
  return { scanner, mode, policy, redact, vault, getVault, output, onFlagged };
}

/** The option keys of a guarded call (the AI SDK middleware, the OpenAI wrapper). */
export const CALL_OPTIONS = ["scanner", "mode", "policy", "redact", "vault", "getVault", "output", "onFlagged"];

/**
 * The vault of this call: the fixed `vault`, else `getVault(...args)`, else
 * `fallback()` (an adapter's own conversation store), else a new one, which
 * serves this call only (placeholders are numbered in order of first
 * appearance, so a history sent again whole gets the same numbers).
 */
export function vaultOf(s, args, fallback) {
  if (s.vault) return s.vault;
  const v = (s.getVault && s.getVault(...args)) || (fallback && fallback()) || new Vault();
  if (!(v instanceof Vault)) throw new TypeError("getVault must return a Vault");
  return v;
}

/**
 * The default conversation store: the `limit` most recently used vaults
 * (a `Map` in use order), so a long-running server does not keep every
 * conversation it ever saw. Pass a store of your own to keep them longer
 * or elsewhere (anything with `get` and `set`).
 */
export function recentVaults(limit = 1024) {
  const map = new Map();
  return {
    get(key) {
      const v = map.get(key);
      if (v !== undefined) {
        map.delete(key);
        map.set(key, v);
      }
      return v;
    },
    set(key, vault) {
      map.delete(key);
      map.set(key, vault);
      if (map.size > limit) map.delete(map.keys().next().value);
      return this;
    },
  };
}

/** The `vaults` option: a store with `get` and `set`, or the default. */
export function storeOf(vaults) {
  if (vaults === undefined) return recentVaults();
  if (vaults === null || typeof vaults.get !== "function" || typeof vaults.set !== "function") throw new TypeError("vaults must have get and set (a Map)");
  return vaults;
}

/**
 * Checks or redacts `slots` (`{ role, text, set(text), message? }`, one per
 * text of the request) through `vault`, and writes the texts to send with
 * `set`. A slot's `message` is the index of the framework message it is in:
 * its texts become the parts of engine message `message`, so the engine's
 * reasons ("message 2: …") name the caller's message. A text without one, or
 * with a role other than its message's (a tool result inside an assistant
 * turn), is an engine message of its own after those, so each text is
 * weighed as what it is (system prompt, user input, tool result; assistant
 * turns are only redacted). A block throws `PromptBlockedError` and leaves
 * the vault as it was.
 */
export function protect(s, slots, vault) {
  if (slots.length === 0) return null;
  const messages = [];
  const extra = [];
  const place = [];
  for (const slot of slots) {
    const part = { type: "text", text: slot.text };
    if (slot.message !== undefined) {
      const m = (messages[slot.message] ??= { role: slot.role, content: [] });
      if (m.role === slot.role) {
        place.push([slot.message, m.content.push(part) - 1]);
        continue;
      }
    }
    place.push([null, extra.push({ role: slot.role, content: [part] }) - 1]);
  }
  // Messages without text keep their index.
  for (let i = 0; i < messages.length; i++) messages[i] ??= { role: "user", content: [] };
  const offset = messages.length;
  messages.push(...extra);
  let out;
  if (s.mode === "redact") {
    out = s.scanner.redactMessages(messages, { ...s.redact, vault });
  } else {
    out = s.scanner.checkMessages(messages, { policy: s.policy, redact: s.redact, vault });
    if (out.action === "block") throw new PromptBlockedError(out);
  }
  place.forEach(([m, p], i) => slots[i].set(out.messages[m ?? offset + p].content[m === null ? 0 : p].text));
  return out;
}

/**
 * Slots for every string inside a JSON value (tool-call inputs, tool
 * results), on a copy of it: `assign(copy)` is called when one changes.
 * Object keys stay as they are.
 */
export function valueSlots(value, role, assign) {
  if (typeof value === "string") return [{ role, text: value, set: assign }];
  if (value === null || typeof value !== "object") return [];
  let copy;
  try {
    copy = structuredClone(value);
  } catch {
    return [];
  }
  const slots = [];
  const walk = (holder, key) => {
    const x = holder[key];
    if (typeof x === "string") {
      slots.push({ role, text: x, set: (t) => ((holder[key] = t), assign(copy)) });
    } else if (x !== null && typeof x === "object") {
      for (const k of Object.keys(x)) walk(x, k);
    }
  };
  for (const k of Object.keys(copy)) walk(copy, k);
  return slots;
}

/** `value` with the vault's placeholders restored in each string inside it. */
export function restoreValue(vault, value) {
  if (typeof value === "string") return vault.restore(value);
  if (Array.isArray(value)) return value.map((x) => restoreValue(vault, x));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, restoreValue(vault, x)]));
  }
  return value;
}

/**
 * JSON text (a tool call's arguments) restored inside its strings, so a
 * value with a quote or a backslash stays valid JSON; text that does not
 * parse is restored as text.
 */
export function restoreJsonText(vault, text) {
  if (typeof text !== "string") return restoreValue(vault, text);
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return vault.restore(text);
  }
  return JSON.stringify(restoreValue(vault, parsed));
}

/**
 * Stream restorers for the texts of one reply, by key (a text block's id, a
 * choice, a content part): each holds back only a possibly unfinished
 * placeholder, so neither a placeholder nor part of one is ever emitted.
 */
export class Restorers {
  #vault;
  #open = new Map();
  constructor(vault) {
    this.#vault = vault;
  }
  /** Text of `key` safe to emit now. */
  push(key, chunk) {
    let r = this.#open.get(key);
    if (!r) this.#open.set(key, (r = this.#vault.restorer()));
    return r.push(chunk);
  }
  /** What `key` still holds (its text ended). */
  finish(key) {
    const r = this.#open.get(key);
    if (!r) return "";
    this.#open.delete(key);
    return r.finish();
  }
  /** `[key, rest]` of every text not finished yet (of those `which` accepts), in the order they began. */
  finishAll(which = () => true) {
    return [...this.#open.keys()].filter(which).map((k) => [k, this.finish(k)]);
  }
  /** Drops what is held (a stopped reply delivers nothing more). */
  clear() {
    this.#open.clear();
  }
}

/**
 * The output scanner of one reply, when the options ask for it (`output`);
 * `push` returns true once the reply so far is flagged. The model's text is
 * scanned with its placeholders, so the user's own values are never a
 * "leak"; a canary, a system-prompt passage or a link is the same either way.
 */
export function watch(s) {
  if (s.output === null) return null;
  const o = s.scanner.outputStream(s.output);
  let report = null;
  return {
    push(text) {
      o.push(text);
      return o.shouldStop;
    },
    finish() {
      return (report ??= o.finish());
    },
  };
}
