// A chat front door for Cloudflare Workers (workerd): blocks prompt
// injection with 400, redacts personal data and secrets, and returns the
// decision as JSON. POST {"message": "..."}.
//
// Workers cannot fetch-and-compile WebAssembly at run time, so the module is
// imported precompiled and initialised synchronously.
import { initSync, Scanner } from "promptsieve";
import wasmModule from "promptsieve/promptsieve_bg.wasm";

initSync({ module: wasmModule });

// Built on first use and kept for the isolate's lifetime: construction
// compiles every rule pack.
let scanner;

export default {
  async fetch(request) {
    if (request.method !== "POST") {
      return Response.json({ error: "POST a JSON body {\"message\": \"...\"}" }, { status: 405 });
    }
    let body;
    try {
      body = await request.json();
    } catch {
      return Response.json({ error: "the body is not JSON" }, { status: 400 });
    }
    if (typeof body?.message !== "string") {
      return Response.json({ error: "\"message\" must be a string" }, { status: 400 });
    }
    scanner ??= new Scanner();
    const decision = scanner.check(body.message);
    const reasons = decision.reasons.map((r) => ({ code: r.code, message: r.message, rule: r.rule }));
    if (decision.action === "block") {
      return Response.json({ action: "block", reasons }, { status: 400 });
    }
    // This is where the app would call its LLM with `message`.
    return Response.json({ action: decision.action, reasons, message: decision.redacted?.text ?? body.message });
  },
};
