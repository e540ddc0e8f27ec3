// Shared by the adapter tests (test/adapter-*.test.mjs); it holds no tests.
// The acceptance checks every adapter must pass: a reply cut at every
// position (and a fixed sample of multi-chunk cuts) reaches the consumer
// with no placeholder, whole or partial, and restored exactly; and a
// conversation's second turn sends the model no real value.
import assert from "node:assert/strict";
import { Scanner, Vault } from "promptsieve";

/** The conversation of the two-turn tests: its values, and what must never reach a model. */
export const person = "Alice Martin";
export const email = "alice@example.org";
export const email2 = "bob@example.org";
export const secrets = [person, "Alice", "Martin", email, email2];

/** A reply that starts and ends with a placeholder, has two of them back to back and a character outside the BMP (split, a surrogate pair). */
export const reply = "[PERSON_1], I wrote to [EMAIL_1][EMAIL_2] 🙂 as asked: [EMAIL_1]";
export const restored = `${person}, I wrote to ${email}${email2} 🙂 as asked: ${email}`;
/** A reply that ends in what could start a placeholder: the restorer holds it to the end, then lets it go. */
export const tail = "Sent to [EMAIL_1] [EMAIL_";
export const restoredTail = `Sent to ${email} [EMAIL_`;

/** A vault that holds the conversation's values as the reply's placeholders. */
export function conversationVault(scanner = new Scanner()) {
  const vault = new Vault();
  scanner.redact(`${person} wrote from ${email} to ${email2}`, { vault });
  assert.equal(vault.restore(reply), restored);
  return vault;
}

// A small PRNG, so the sampled cuts are the same on every run.
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Ways to cut `text` into chunks: into two at every position, into single
 * UTF-16 code units (every surrogate pair split too), and `samples` random
 * cuts into 3 to 9 chunks.
 */
export function cuts(text = reply, samples = 120) {
  const out = [];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  out.push(text.split(""));
  const random = mulberry32(16);
  for (let k = 0; k < samples; k++) {
    const n = 2 + Math.floor(random() * 8);
    const at = new Set();
    while (at.size < n) at.add(1 + Math.floor(random() * (text.length - 1)));
    const points = [0, ...[...at].sort((a, b) => a - b), text.length];
    out.push(points.slice(1).map((p, i) => text.slice(points[i], p)));
  }
  return out;
}

/**
 * What the consumer received is the restored reply, and at no point did it
 * hold a placeholder or a piece of one: every prefix it saw is a prefix of
 * the restored text, and, when that has no brackets, no chunk has a bracket
 * or a placeholder's body.
 */
export function assertDelivered(chunks, expected = restored, what = "") {
  let seen = "";
  const plain = !/[[\]]/.test(expected);
  for (const c of chunks) {
    assert.equal(typeof c, "string", what);
    if (plain) assert.doesNotMatch(c, /[[\]]|[A-Z]{4,}_\d/, `${what}: chunk ${JSON.stringify(c)} of ${JSON.stringify(chunks)}`);
    seen += c;
    assert.ok(expected.startsWith(seen), `${what}: ${JSON.stringify(seen)} is not a prefix of the reply (chunks ${JSON.stringify(chunks)})`);
  }
  assert.equal(seen, expected, what);
}

/** Every real value is absent from what a model received (any JSON-able record of it). */
export function assertNoValues(received, what = "model input") {
  const text = typeof received === "string" ? received : JSON.stringify(received);
  for (const v of secrets) assert.ok(!text.includes(v), `${what} holds ${JSON.stringify(v)}: ${text}`);
}

/**
 * A stand-in for the OpenAI API on 127.0.0.1 (node:http): POST
 * /v1/chat/completions and /v1/responses, each as JSON or, with
 * `stream: true`, as server-sent events the way the API sends them. It
 * records every request body (`requests`), and replies with `reply(body)`:
 * `{ pieces: [...] }` (the text, in the chunks to stream it in) and
 * optionally `tool: { name, pieces }` (a function call, its arguments in
 * chunks). The default reply is "ok".
 */
export async function openaiStub() {
  const { createServer } = await import("node:http");
  const requests = [];
  let responses = 0;
  const stub = { requests, reply: () => ({ pieces: ["ok"] }) };
  const server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      const body = JSON.parse(raw || "{}");
      requests.push({ path: req.url, body });
      const plan = stub.reply(body, req.url);
      if (req.url === "/v1/chat/completions") return chat(res, body, plan);
      if (req.url === "/v1/responses") return respond(res, body, plan, `resp_${++responses}`);
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
    });
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  stub.url = `http://127.0.0.1:${server.address().port}/v1`;
  stub.close = () => new Promise((ok) => (server.closeAllConnections(), server.close(ok)));
  return stub;
}

const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };
const sse = (res) => {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  return (data, event) => res.write(`${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
};

function chat(res, body, { pieces = [], tool = null }) {
  const head = { id: "chatcmpl-1", created: 1767225600, model: body.model, system_fingerprint: null };
  const finish = tool ? "tool_calls" : "stop";
  if (!body.stream) {
    const message = { role: "assistant", content: tool ? null : pieces.join(""), refusal: null, annotations: [] };
    if (tool) message.tool_calls = [{ id: "call_1", type: "function", function: { name: tool.name, arguments: tool.pieces.join("") } }];
    res.writeHead(200, { "content-type": "application/json", "x-request-id": "req_chat" });
    return res.end(JSON.stringify({ ...head, object: "chat.completion", choices: [{ index: 0, message, finish_reason: finish, logprobs: null }], usage }));
  }
  const send = sse(res);
  const chunk = (delta, finish_reason = null) => send({ ...head, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason, logprobs: null }] });
  chunk({ role: "assistant", content: "", refusal: null });
  for (const content of pieces) chunk({ content });
  if (tool) {
    chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: tool.name, arguments: "" } }] });
    for (const args of tool.pieces) chunk({ tool_calls: [{ index: 0, function: { arguments: args } }] });
  }
  chunk({}, finish);
  if (body.stream_options?.include_usage) send({ ...head, object: "chat.completion.chunk", choices: [], usage });
  send("[DONE]");
  res.end();
}

function respond(res, body, { pieces = [], tool = null }, id) {
  const text = pieces.join("");
  const message = (content, status) => ({ type: "message", id: "msg_1", status, role: "assistant", content });
  const part = (t) => ({ type: "output_text", text: t, annotations: [], logprobs: [] });
  const call = (args, status) => ({ type: "function_call", id: "fc_1", call_id: "call_1", name: tool?.name, arguments: args, status });
  const response = (status, output) => ({
    id, object: "response", created_at: 1767225600, status, model: body.model, output,
    previous_response_id: body.previous_response_id ?? null, instructions: body.instructions ?? null,
    usage: status === "completed" ? { input_tokens: 5, output_tokens: 7, total_tokens: 12 } : null,
  });
  const done = [message([part(text)], "completed"), ...(tool ? [call(tool.pieces.join(""), "completed")] : [])];
  if (!body.stream) {
    res.writeHead(200, { "content-type": "application/json", "x-request-id": "req_resp" });
    return res.end(JSON.stringify(response("completed", done)));
  }
  const send = sse(res);
  let n = 0;
  const event = (type, data) => send({ type, sequence_number: n++, ...data }, type);
  event("response.created", { response: response("in_progress", []) });
  event("response.in_progress", { response: response("in_progress", []) });
  event("response.output_item.added", { output_index: 0, item: message([], "in_progress") });
  const where = { item_id: "msg_1", output_index: 0, content_index: 0 };
  event("response.content_part.added", { ...where, part: part("") });
  for (const delta of pieces) event("response.output_text.delta", { ...where, delta, logprobs: [] });
  event("response.output_text.done", { ...where, text, logprobs: [] });
  event("response.content_part.done", { ...where, part: part(text) });
  event("response.output_item.done", { output_index: 0, item: done[0] });
  if (tool) {
    event("response.output_item.added", { output_index: 1, item: call("", "in_progress") });
    for (const delta of tool.pieces) event("response.function_call_arguments.delta", { item_id: "fc_1", output_index: 1, delta });
    event("response.function_call_arguments.done", { item_id: "fc_1", output_index: 1, arguments: tool.pieces.join("") });
    event("response.output_item.done", { output_index: 1, item: done[1] });
  }
  event("response.completed", { response: response("completed", done) });
  res.end();
}
