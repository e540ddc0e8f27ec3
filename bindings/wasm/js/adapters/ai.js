// `promptsieve/ai`: a language-model middleware for the Vercel AI SDK
// (`wrapLanguageModel({ model, middleware: promptsieveMiddleware() })`).
// It is the SDK's middleware version v3 (`LanguageModelV3Middleware`, the
// version `ai` 6 exposes; ai 6 is the newest release that runs on Node 20).
// It needs nothing from the SDK at run time: a middleware is a plain object
// of three hooks, and the stream parts are plain objects too.
//
// transformParams: every text of the prompt (system, user and assistant
//   text, reasoning, tool-call inputs, tool results) is checked or redacted
//   through the conversation's vault, so no value reaches the model.
// wrapGenerate / wrapStream: the reply's texts, tool-call inputs and
//   provider-executed tool results are restored; streamed text deltas go
//   through one stream restorer per text block (a placeholder split across
//   deltas is held back until it is whole). With `output`, the reply text
//   is scanned as it arrives and a flagged reply is cut.
import { CALL_OPTIONS, PromptBlockedError, ReplyBlockedError, Restorers, protect, restoreJsonText, restoreValue, settings, storeOf, valueSlots, vaultOf, watch } from "./shared.js";
import { Vault } from "promptsieve";

export { PromptBlockedError, ReplyBlockedError };

/** Where a caller names its conversation: `providerOptions: { promptsieve: { conversation } }`. */
const conversationOf = (params) => {
  const c = params.providerOptions?.promptsieve?.conversation;
  return typeof c === "string" ? c : undefined;
};

/**
 * The slots of every text of a prompt (`LanguageModelV3Prompt`), on a copy:
 * `prompt` is the copy that the slots write into.
 */
function promptSlots(original) {
  const slots = [];
  const prompt = original.map((message, i) => {
    const m = { ...message };
    if (typeof m.content === "string") {
      slots.push({ role: m.role, text: m.content, set: (t) => (m.content = t), message: i });
      return m;
    }
    if (!Array.isArray(m.content)) return m;
    m.content = m.content.map((part) => {
      const p = { ...part };
      for (const slot of partSlots(p, m.role)) slots.push({ ...slot, message: i });
      return p;
    });
    return m;
  });
  return { prompt, slots };
}

function partSlots(p, role) {
  switch (p.type) {
    case "text":
    case "reasoning":
      return typeof p.text === "string" ? [{ role, text: p.text, set: (t) => (p.text = t) }] : [];
    case "tool-call":
      // Earlier calls came back restored; they go to the model redacted.
      return valueSlots(p.input, role, (v) => (p.input = v));
    case "tool-result":
      return outputSlots(p);
    default:
      // Files and tool approvals carry no text the engine reads.
      return [];
  }
}

/** A tool result's texts: what a tool returns is a tool's text, wherever it appears. */
function outputSlots(p) {
  const o = p.output;
  if (!o || typeof o !== "object") return [];
  p.output = { ...o };
  const out = p.output;
  switch (out.type) {
    case "text":
    case "error-text":
      return typeof out.value === "string" ? [{ role: "tool", text: out.value, set: (t) => (out.value = t) }] : [];
    case "json":
    case "error-json":
      return valueSlots(out.value, "tool", (v) => (out.value = v));
    case "execution-denied":
      return typeof out.reason === "string" ? [{ role: "tool", text: out.reason, set: (t) => (out.reason = t) }] : [];
    case "content":
      if (!Array.isArray(out.value)) return [];
      out.value = out.value.map((item) => ({ ...item }));
      return out.value.flatMap((item) =>
        item.type === "text" && typeof item.text === "string" ? [{ role: "tool", text: item.text, set: (t) => (item.text = t) }] : [],
      );
    default:
      return [];
  }
}

/** A generated content part (`LanguageModelV3Content`) with its values put back. */
function restorePart(vault, part) {
  switch (part.type) {
    case "text":
    case "reasoning":
      return { ...part, text: vault.restore(part.text) };
    case "tool-call":
      return { ...part, input: restoreJsonText(vault, part.input) };
    case "tool-result":
      return { ...part, result: restoreValue(vault, part.result) };
    default:
      return part;
  }
}

const noUsage = () => ({
  inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: undefined, text: undefined, reasoning: undefined },
});
const filtered = { unified: "content-filter", raw: "promptsieve" };

/**
 * The middleware. Options: `scanner`; `mode` ("check": block with
 * `PromptBlockedError` or redact, per the policy; "redact": only redact);
 * `policy` and `redact` (the check's or the redaction's options); `vault`
 * (one conversation), `getVault(params)`, or `vaults` (a `Map`-like store
 * keyed by `providerOptions.promptsieve.conversation`); `output` (an
 * `OutputContext`: scan the reply) and `onFlagged` ("error" or "finish").
 */
export function promptsieveMiddleware(options) {
  const s = settings(options, [...CALL_OPTIONS, "vaults"]);
  const store = storeOf(options?.vaults);
  // The vault each transformed call uses, found again by wrapGenerate and
  // wrapStream (the SDK hands them the object transformParams returned).
  const calls = new WeakMap();

  const byConversation = (params) => () => {
    const key = conversationOf(params);
    if (key === undefined) return undefined;
    let v = store.get(key);
    if (!v) store.set(key, (v = new Vault()));
    return v;
  };

  return {
    specificationVersion: "v3",

    async transformParams({ params }) {
      const vault = vaultOf(s, [params], byConversation(params));
      const { prompt, slots } = promptSlots(params.prompt);
      protect(s, slots, vault);
      const next = { ...params, prompt };
      calls.set(next, vault);
      return next;
    },

    async wrapGenerate({ doGenerate, params }) {
      const vault = calls.get(params) ?? vaultOf(s, [params]);
      const result = await doGenerate();
      const w = watch(s);
      if (w) {
        for (const part of result.content) if (part.type === "text") w.push(part.text);
        const report = w.finish();
        if (report.flagged) {
          if (s.onFlagged === "error") throw new ReplyBlockedError(report);
          return { ...result, content: [], finishReason: filtered };
        }
      }
      return { ...result, content: result.content.map((part) => restorePart(vault, part)) };
    },

    async wrapStream({ doStream, params }) {
      const vault = calls.get(params) ?? vaultOf(s, [params]);
      const { stream, ...rest } = await doStream();
      return { ...rest, stream: stream.pipeThrough(restoring(s, vault)) };
    },
  };
}

/**
 * The stream half: a `TransformStream` of `LanguageModelV3StreamPart`s.
 * Text and reasoning deltas go through one restorer per block id, and what
 * a block holds goes out as one more delta before its end part; tool-input
 * deltas likewise, and a whole tool call's input is restored as JSON.
 */
function restoring(s, vault) {
  const texts = new Restorers(vault);
  const w = watch(s);
  const open = new Set();
  let stopped = false;

  // A flagged reply: nothing more is delivered (what is held is dropped,
  // the rest of the model's stream is cancelled). "error" ends the stream
  // with an error part; "finish" closes the open text blocks and finishes
  // with the finish reason "content-filter".
  const stop = (controller, report) => {
    stopped = true;
    texts.clear();
    if (s.onFlagged === "error") {
      controller.enqueue({ type: "error", error: new ReplyBlockedError(report) });
    } else {
      for (const id of open) controller.enqueue({ type: "text-end", id });
      controller.enqueue({ type: "finish", finishReason: filtered, usage: noUsage() });
    }
    controller.terminate();
  };
  const flushAll = (controller) => {
    for (const [key, delta] of texts.finishAll()) {
      const [kind, id] = key;
      if (delta) controller.enqueue({ type: `${kind}-delta`, id, delta });
    }
  };
  const keyOf = new Map();
  // Keys are [kind, id] pairs, one object per block so a Map can hold them.
  const key = (kind, id) => {
    const k = `${kind}\u0000${id}`;
    let v = keyOf.get(k);
    if (!v) keyOf.set(k, (v = [kind, id]));
    return v;
  };

  return new TransformStream({
    transform(part, controller) {
      if (stopped) return;
      switch (part.type) {
        case "text-start":
          open.add(part.id);
          return controller.enqueue(part);
        case "text-delta":
          if (w && w.push(part.delta)) return stop(controller, w.finish());
        // fall through
        case "reasoning-delta":
        case "tool-input-delta": {
          const kind = part.type.slice(0, -"-delta".length);
          const delta = texts.push(key(kind, part.id), part.delta);
          if (delta) controller.enqueue({ ...part, delta });
          return;
        }
        case "text-end":
        case "reasoning-end":
        case "tool-input-end": {
          const kind = part.type.slice(0, -"-end".length);
          const delta = texts.finish(key(kind, part.id));
          if (delta) controller.enqueue({ type: `${kind}-delta`, id: part.id, delta });
          open.delete(part.id);
          return controller.enqueue(part);
        }
        case "tool-call":
          return controller.enqueue({ ...part, input: restoreJsonText(vault, part.input) });
        case "tool-result":
          return controller.enqueue({ ...part, result: restoreValue(vault, part.result) });
        case "finish":
          if (w && w.finish().flagged) return stop(controller, w.finish());
          flushAll(controller);
          return controller.enqueue(part);
        default:
          return controller.enqueue(part);
      }
    },
    flush(controller) {
      if (stopped) return;
      // A stream that ended without its end parts still delivers its text.
      if (w && w.finish().flagged) return stop(controller, w.finish());
      flushAll(controller);
    },
  });
}
