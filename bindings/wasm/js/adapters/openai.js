// `promptsieve/openai`: `wrap(client, options)` gives back the OpenAI client
// (the `openai` package) with its two generation calls guarded:
//
// - `chat.completions.create` (streaming or not): every message's text
//   (system, developer, user, assistant, tool; content strings and text
//   parts; earlier tool calls' arguments) is checked or redacted through the
//   conversation's vault; the reply's content, refusal and tool-call
//   arguments are restored, and streamed deltas go through one stream
//   restorer per choice (and per tool call).
// - `responses.create` (streaming or not): `instructions` and `input` (a
//   string or items: messages, function calls and their outputs, custom
//   tool calls, reasoning summaries) likewise; the response's output items,
//   `output_text` and every streamed event that carries text are restored.
//
// The wrapper needs nothing from the package at run time: the client is the
// caller's, and a wrapped stream is the client's own `Stream` class.
// The helpers built on these calls (`chat.completions.stream`, `parse`,
// `runTools`, `responses.stream`, `parse`) call the unwrapped client, so on
// the wrapped client they throw instead of sending unguarded text.
import { CALL_OPTIONS, PromptBlockedError, ReplyBlockedError, Restorers, protect, restoreJsonText, settings, storeOf, vaultOf, watch } from "./shared.js";
import { PromptsieveError, Vault } from "promptsieve";

export { PromptBlockedError, ReplyBlockedError };

// ---------------------------------------------------------------- slots

const textSlot = (holder, key, role) =>
  typeof holder[key] === "string" ? [{ role, text: holder[key], set: (t) => (holder[key] = t) }] : [];

/** Slots of JSON text (tool-call arguments): its strings, written back as JSON. */
function jsonTextSlots(holder, key, role) {
  const text = holder[key];
  if (typeof text !== "string") return [];
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return textSlot(holder, key, role);
  }
  const slots = [];
  const walk = (h, k) => {
    const x = h[k];
    if (typeof x === "string") slots.push({ role, text: x, set: (t) => ((h[k] = t), (holder[key] = JSON.stringify(box.v))) });
    else if (x !== null && typeof x === "object") for (const kk of Object.keys(x)) walk(x, kk);
  };
  const box = { v: value };
  walk(box, "v");
  return slots;
}

/** Slots of a content value: a string, or parts whose `type` is one of `kinds` (their `text`). */
function contentSlots(holder, role, kinds) {
  if (typeof holder.content === "string") return textSlot(holder, "content", role);
  if (!Array.isArray(holder.content)) return [];
  holder.content = holder.content.map((p) => ({ ...p }));
  return holder.content.flatMap((p) => {
    if (kinds.includes(p.type)) return textSlot(p, "text", role);
    if (p.type === "refusal") return textSlot(p, "refusal", role);
    return [];
  });
}

/** Chat Completions messages, copied, and the slots of their texts. */
function chatSlots(messages) {
  const slots = [];
  const out = messages.map((message, i) => {
    const m = { ...message };
    const role = m.role === "function" ? "tool" : m.role;
    const at = slots.length;
    slots.push(...contentSlots(m, role, ["text"]));
    if (typeof m.refusal === "string") slots.push(...textSlot(m, "refusal", role));
    if (Array.isArray(m.tool_calls)) {
      m.tool_calls = m.tool_calls.map((call) => {
        const c = { ...call };
        if (c.function) {
          c.function = { ...c.function };
          slots.push(...jsonTextSlots(c.function, "arguments", role));
        }
        if (c.custom) {
          c.custom = { ...c.custom };
          slots.push(...textSlot(c.custom, "input", role));
        }
        return c;
      });
    }
    if (m.function_call) {
      m.function_call = { ...m.function_call };
      slots.push(...jsonTextSlots(m.function_call, "arguments", role));
    }
    for (const slot of slots.slice(at)) slot.message = i;
    return m;
  });
  return { out, slots };
}

const INPUT_TEXT = ["input_text", "output_text", "text"];

/** Responses API input items, copied, and the slots of their texts. */
function inputSlots(items) {
  const slots = [];
  const out = items.map((item, i) => {
    const it = { ...item };
    const at = slots.length;
    switch (it.type ?? "message") {
      case "message":
        slots.push(...contentSlots(it, it.role ?? "user", INPUT_TEXT));
        break;
      case "function_call":
        slots.push(...jsonTextSlots(it, "arguments", "assistant"));
        break;
      case "custom_tool_call":
        slots.push(...textSlot(it, "input", "assistant"));
        break;
      case "function_call_output":
      case "custom_tool_call_output":
        if (typeof it.output === "string") slots.push(...textSlot(it, "output", "tool"));
        else if (Array.isArray(it.output)) {
          const holder = { content: it.output };
          slots.push(...contentSlots(holder, "tool", INPUT_TEXT));
          it.output = holder.content;
        }
        break;
      case "reasoning":
        for (const key of ["summary", "content"]) {
          if (!Array.isArray(it[key])) continue;
          it[key] = it[key].map((p) => ({ ...p }));
          for (const p of it[key]) slots.push(...textSlot(p, "text", "assistant"));
        }
        break;
      default:
        // Built-in tool calls (search, files, computer use) carry no text.
        break;
    }
    for (const slot of slots.slice(at)) slot.message = i;
    return it;
  });
  return { out, slots };
}

// ------------------------------------------------------------- restoring

/** A finished chat message (or a streamed delta's whole text fields) restored. */
function restoreMessage(vault, message) {
  if (!message) return message;
  const m = { ...message };
  if (typeof m.content === "string") m.content = vault.restore(m.content);
  if (typeof m.refusal === "string") m.refusal = vault.restore(m.refusal);
  if (Array.isArray(m.tool_calls)) {
    m.tool_calls = m.tool_calls.map((c) => {
      const call = { ...c };
      if (call.function && typeof call.function.arguments === "string") call.function = { ...call.function, arguments: restoreJsonText(vault, call.function.arguments) };
      if (call.custom && typeof call.custom.input === "string") call.custom = { ...call.custom, input: vault.restore(call.custom.input) };
      return call;
    });
  }
  if (m.function_call && typeof m.function_call.arguments === "string") m.function_call = { ...m.function_call, arguments: restoreJsonText(vault, m.function_call.arguments) };
  return m;
}

/** A Responses API output item restored (message text, refusals, call arguments, reasoning). */
function restoreItem(vault, item) {
  if (!item || typeof item !== "object") return item;
  const it = { ...item };
  if (Array.isArray(it.content)) it.content = it.content.map((p) => restorePart(vault, p));
  if (Array.isArray(it.summary)) it.summary = it.summary.map((p) => restorePart(vault, p));
  if (typeof it.arguments === "string") it.arguments = restoreJsonText(vault, it.arguments);
  if (it.type === "custom_tool_call" && typeof it.input === "string") it.input = vault.restore(it.input);
  return it;
}

function restorePart(vault, part) {
  if (!part || typeof part !== "object") return part;
  const p = { ...part };
  if (typeof p.text === "string") p.text = vault.restore(p.text);
  if (typeof p.refusal === "string") p.refusal = vault.restore(p.refusal);
  return p;
}

function restoreResponse(vault, response) {
  if (!response || typeof response !== "object") return response;
  const r = { ...response };
  if (Array.isArray(r.output)) r.output = r.output.map((it) => restoreItem(vault, it));
  if (typeof r.output_text === "string") r.output_text = vault.restore(r.output_text);
  return r;
}

/** The reply text of a response, with placeholders (what the output scan reads). */
const responseText = (response) =>
  (response.output ?? []).flatMap((it) => (it.type === "message" && Array.isArray(it.content) ? it.content : [])).map((p) => (p.type === "output_text" ? p.text : "")).join("");

// ----------------------------------------------------------- chat calls

function chatCall(s, client, resource, original) {
  return function create(body, requestOptions) {
    return guarded(() => {
      const vault = vaultOf(s, [body]);
      const { out, slots } = chatSlots(Array.isArray(body?.messages) ? body.messages : []);
      protect(s, slots, vault);
      const api = original.call(resource, { ...body, messages: out }, requestOptions);
      const finish = (data) => (body?.stream ? restoreChatStream(s, client, vault, data) : restoreCompletion(s, vault, data));
      return { api, finish };
    });
  };
}

function restoreCompletion(s, vault, completion) {
  const choices = completion.choices.map((choice) => {
    const w = watch(s);
    if (w && typeof choice.message?.content === "string") {
      w.push(choice.message.content);
      const report = w.finish();
      if (report.flagged) {
        if (s.onFlagged === "error") throw new ReplyBlockedError(report);
        return { ...choice, message: { ...choice.message, content: null, tool_calls: undefined }, finish_reason: "content_filter" };
      }
    }
    return { ...choice, message: restoreMessage(vault, choice.message) };
  });
  return { ...completion, choices };
}

/**
 * A chat stream restored chunk by chunk: each choice's content, refusal and
 * each tool call's arguments through a restorer of its own. What a choice
 * holds goes out in the chunk that finishes it (or, if the stream ends
 * first, in one more chunk).
 */
function restoreChatStream(s, client, vault, stream) {
  const Stream = stream.constructor;
  async function* chunks() {
    const texts = new Restorers(vault);
    const watches = new Map();
    const open = new Set();
    let last = null;
    for await (const chunk of stream) {
      last = chunk;
      const choices = [];
      for (const choice of chunk.choices ?? []) {
        const i = choice.index;
        open.add(i);
        const delta = { ...choice.delta };
        if (typeof delta.content === "string") {
          if (s.output !== null) {
            if (!watches.has(i)) watches.set(i, watch(s));
            const w = watches.get(i);
            if (w.push(delta.content)) {
              stream.controller.abort();
              if (s.onFlagged === "error") throw new ReplyBlockedError(w.finish());
              yield { ...chunk, choices: [...open].map((index) => ({ index, delta: {}, finish_reason: "content_filter", logprobs: null })) };
              return;
            }
          }
          delta.content = texts.push(`content ${i}`, delta.content);
        }
        if (typeof delta.refusal === "string") delta.refusal = texts.push(`refusal ${i}`, delta.refusal);
        if (Array.isArray(delta.tool_calls)) {
          delta.tool_calls = delta.tool_calls.map((c) =>
            typeof c.function?.arguments === "string" ? { ...c, function: { ...c.function, arguments: texts.push(`tool ${i} ${c.index}`, c.function.arguments) } } : c,
          );
        }
        if (choice.finish_reason) {
          open.delete(i);
          flushChoice(texts, i, delta);
          const w = watches.get(i);
          if (w && w.finish().flagged) {
            stream.controller.abort();
            if (s.onFlagged === "error") throw new ReplyBlockedError(w.finish());
            choices.push({ ...choice, delta: {}, finish_reason: "content_filter" });
            continue;
          }
        }
        choices.push({ ...choice, delta });
      }
      yield { ...chunk, choices };
    }
    if (open.size > 0 && last) {
      // The stream ended without finishing a choice: its held text still goes out.
      const choices = [...open].map((index) => {
        const delta = {};
        flushChoice(texts, index, delta);
        return { index, delta, finish_reason: null, logprobs: null };
      });
      yield { ...last, choices, usage: undefined };
    }
  }
  return new Stream(chunks, stream.controller, client);
}

/** Moves what choice `i` holds into `delta` (content, refusal, tool-call arguments). */
function flushChoice(texts, i, delta) {
  for (const [key, rest] of texts.finishAll((k) => Number(k.split(" ")[1]) === i)) {
    const [kind, , tool] = key.split(" ");
    if (!rest) continue;
    if (kind === "content" || kind === "refusal") delta[kind] = (delta[kind] ?? "") + rest;
    else delta.tool_calls = [...(delta.tool_calls ?? []), { index: Number(tool), function: { arguments: rest } }];
  }
}

// ------------------------------------------------------- responses calls

function responsesCall(s, client, resource, original, vaults) {
  return function create(body, requestOptions) {
    return guarded(() => {
      // A conversation kept by the server (`conversation`, or a chain of
      // `previous_response_id`s) keeps one vault: the server holds the
      // earlier turns with their placeholders.
      const key = conversationKey(body);
      const vault = vaultOf(s, [body], () => {
        if (key === undefined) return undefined;
        let v = vaults.get(key);
        if (!v) vaults.set(key, (v = new Vault()));
        return v;
      });
      const slots = [];
      const next = { ...body };
      if (typeof next.instructions === "string") slots.push(...textSlot(next, "instructions", "system"));
      if (typeof next.input === "string") slots.push(...textSlot(next, "input", "user"));
      else if (Array.isArray(next.input)) {
        const { out, slots: inner } = inputSlots(next.input);
        next.input = out;
        slots.push(...inner);
      }
      protect(s, slots, vault);
      const api = original.call(resource, next, requestOptions);
      const remember = (id) => {
        if (typeof id === "string" && !s.vault) vaults.set(`response:${id}`, vault);
      };
      const finish = (data) => (body?.stream ? restoreResponseStream(s, client, vault, data, remember) : (remember(data.id), restoreWhole(s, vault, data)));
      return { api, finish };
    });
  };
}

function conversationKey(body) {
  const c = body?.conversation;
  const id = typeof c === "string" ? c : c?.id;
  if (typeof id === "string") return `conversation:${id}`;
  if (typeof body?.previous_response_id === "string") return `response:${body.previous_response_id}`;
  return undefined;
}

function restoreWhole(s, vault, response) {
  const w = watch(s);
  if (w) {
    w.push(responseText(response));
    const report = w.finish();
    if (report.flagged) {
      if (s.onFlagged === "error") throw new ReplyBlockedError(report);
      return { ...response, status: "incomplete", incomplete_details: { reason: "content_filter" }, output: [], output_text: "" };
    }
  }
  return restoreResponse(vault, response);
}

// Streamed events whose `delta` is text, and the matching `done` events'
// text field.
const DELTAS = {
  "response.output_text.delta": "response.output_text.done",
  "response.refusal.delta": "response.refusal.done",
  "response.function_call_arguments.delta": "response.function_call_arguments.done",
  "response.custom_tool_call_input.delta": "response.custom_tool_call_input.done",
  "response.reasoning_text.delta": "response.reasoning_text.done",
  "response.reasoning_summary_text.delta": "response.reasoning_summary_text.done",
};
const DONE = Object.fromEntries(Object.entries(DELTAS).map(([d, done]) => [done, d]));
const DONE_FIELD = {
  "response.output_text.done": "text",
  "response.refusal.done": "refusal",
  "response.function_call_arguments.done": "arguments",
  "response.custom_tool_call_input.done": "input",
  "response.reasoning_text.done": "text",
  "response.reasoning_summary_text.done": "text",
};
const textKey = (e, type) => `${type} ${e.item_id} ${e.content_index ?? e.summary_index ?? ""}`;

/**
 * A Responses stream restored event by event: each text delta through the
 * restorer of its text (item, content part); what one holds goes out as one
 * more delta event just before that text's `done` event (with the done
 * event's sequence number). Whole values (`done` texts, parts, items,
 * response snapshots) are restored whole.
 */
function restoreResponseStream(s, client, vault, stream, remember) {
  const Stream = stream.constructor;
  async function* events() {
    const texts = new Restorers(vault);
    const w = watch(s);
    let snapshot = null;
    for await (const event of stream) {
      const type = event.type;
      if (event.response) {
        snapshot = event.response;
        remember(event.response.id);
      }
      if (type in DELTAS) {
        if (type === "response.output_text.delta" && w && w.push(event.delta)) {
          stream.controller.abort();
          if (s.onFlagged === "error") throw new ReplyBlockedError(w.finish());
          yield incomplete(event, snapshot);
          return;
        }
        const delta = texts.push(textKey(event, type), event.delta);
        yield { ...event, delta };
        continue;
      }
      if (type in DONE) {
        const field = DONE_FIELD[type];
        const rest = texts.finish(textKey(event, DONE[type]));
        if (rest) {
          const { [field]: _whole, ...meta } = event;
          yield { ...meta, type: DONE[type], delta: rest };
        }
        const value = event[field];
        yield { ...event, [field]: field === "arguments" ? restoreJsonText(vault, value) : vault.restore(value) };
        continue;
      }
      if (type === "response.completed" && w && w.finish().flagged) {
        if (s.onFlagged === "error") throw new ReplyBlockedError(w.finish());
        yield incomplete(event, event.response);
        return;
      }
      yield restoreEvent(vault, event);
    }
  }
  return new Stream(events, stream.controller, client);
}

/** Text fields of the other events: a content part, an output item, a response snapshot. */
function restoreEvent(vault, event) {
  const e = { ...event };
  if (e.part) e.part = restorePart(vault, e.part);
  if (e.item) e.item = restoreItem(vault, e.item);
  if (e.response) e.response = restoreResponse(vault, e.response);
  return e;
}

/** The event that ends a cut reply: the response, incomplete for `content_filter`, with no output. */
const incomplete = (event, snapshot) => ({
  type: "response.incomplete",
  sequence_number: event.sequence_number,
  response: { ...(snapshot ?? {}), status: "incomplete", incomplete_details: { reason: "content_filter" }, output: [] },
});

// ------------------------------------------------------------------ wrap

/**
 * The call's result: a promise of the restored data (a rejected one when
 * the prompt is blocked), with `withResponse()` like the client's own
 * `APIPromise` (`{ data, response, request_id }`, the data restored).
 */
function guarded(start) {
  let call;
  try {
    call = start();
  } catch (e) {
    const p = Promise.reject(e);
    p.withResponse = () => p;
    return p;
  }
  const data = call.api.then(call.finish);
  data.withResponse = async () => {
    const [{ response, request_id }, restored] = await Promise.all([call.api.withResponse(), data]);
    return { data: restored, response, request_id };
  };
  return data;
}

const unguarded = (name) => () => {
  throw new PromptsieveError(`${name} is not guarded by promptsieve: call create (with stream: true) on the wrapped client, or ${name} on the client itself`);
};

/**
 * The client with `chat.completions.create` and `responses.create` guarded.
 * Options: `scanner`; `mode` ("check": block with `PromptBlockedError` or
 * redact, per the policy; "redact"); `policy`, `redact`; `vault` (one
 * conversation), `getVault(body)`, or `vaults` (a `Map`-like store the
 * Responses API's server-side conversations use, keyed by `conversation`
 * and by response id for `previous_response_id`); `output` and `onFlagged`.
 */
export function wrap(client, options) {
  if (!client || typeof client !== "object" || !client.chat?.completions || !client.responses) {
    throw new TypeError("wrap takes an OpenAI client (new OpenAI(...))");
  }
  const s = settings(options, [...CALL_OPTIONS, "vaults"]);
  const vaults = storeOf(options?.vaults);
  const completions = client.chat.completions;
  const chatCreate = chatCall(s, client, completions, completions.create);
  const responsesCreate = responsesCall(s, client, client.responses, client.responses.create, vaults);
  const over = (target, replaced) =>
    new Proxy(target, {
      get(t, prop) {
        if (Object.hasOwn(replaced, prop)) return replaced[prop];
        const v = Reflect.get(t, prop, t);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
  const guardedCompletions = over(completions, {
    create: chatCreate,
    stream: unguarded("chat.completions.stream"),
    parse: unguarded("chat.completions.parse"),
    runTools: unguarded("chat.completions.runTools"),
  });
  const chat = over(client.chat, { completions: guardedCompletions });
  const responses = over(client.responses, {
    create: responsesCreate,
    stream: unguarded("responses.stream"),
    parse: unguarded("responses.parse"),
  });
  return over(client, { chat, responses });
}
