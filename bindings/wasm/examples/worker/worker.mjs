// A chat front door for Cloudflare Workers (workerd): blocks prompt
// injection with 400, redacts personal data and secrets, and returns the
// decision as JSON. POST / {"message": "...", "vault"?: "..."}.
//
// The conversation's vault travels with the client, sealed under the
// Worker's secret VAULT_KEY (the client cannot read the values), so the
// placeholders stay stable across requests without server storage.
// POST /reply {"reply": "...", "vault": "..."} streams a model's reply back
// with the placeholders restored, chunk by chunk.
//
// Workers cannot fetch-and-compile WebAssembly at run time, so the module is
// imported precompiled and initialised synchronously.
import { initSync, Scanner, Vault, restoreStream } from "promptsieve";
import wasmModule from "promptsieve/promptsieve_bg.wasm";

initSync({ module: wasmModule });

// Built on first use and kept for the isolate's lifetime: construction
// compiles every rule pack.
let scanner;

const error = (message, status = 400) => Response.json({ error: message }, { status });

/** The client's sealed vault, or a new one; null when it was altered or sealed under another key. */
function openVault(sealed, key) {
  if (sealed === undefined) return new Vault();
  try {
    return Vault.fromSealedJSON(sealed, key);
  } catch {
    return null;
  }
}

/** Stands in for a model's streamed response: the text as bytes in small chunks. */
function modelStream(text) {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, (at += 5)));
    },
  });
}

export default {
  async fetch(request, env) {
    if (request.method !== "POST") {
      return Response.json({ error: "POST a JSON body {\"message\": \"...\"}" }, { status: 405 });
    }
    let body;
    try {
      body = await request.json();
    } catch {
      return error("the body is not JSON");
    }
    const vault = openVault(body?.vault, env.VAULT_KEY);
    if (!vault) return error("the vault was altered or sealed under another key");
    try {
      if (new URL(request.url).pathname === "/reply") {
        if (typeof body.reply !== "string") return error("\"reply\" must be a string");
        // This is where the app would stream its LLM's response body.
        const restored = modelStream(body.reply)
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(restoreStream(vault))
          .pipeThrough(new TextEncoderStream());
        return new Response(restored, { headers: { "content-type": "text/plain; charset=utf-8" } });
      }
      if (typeof body?.message !== "string") return error("\"message\" must be a string");
      scanner ??= new Scanner();
      const decision = scanner.check(body.message, { vault });
      const reasons = decision.reasons.map((r) => ({ code: r.code, message: r.message, rule: r.rule }));
      if (decision.action === "block") {
        return Response.json({ action: "block", reasons }, { status: 400 });
      }
      // This is where the app would call its LLM with `message`.
      return Response.json({
        action: decision.action,
        reasons,
        message: decision.redacted?.text ?? body.message,
        vault: vault.toSealedJSON(env.VAULT_KEY),
      });
    } finally {
      // The restoring stream keeps its own copy of the placeholders.
      vault.free();
    }
  },
};
