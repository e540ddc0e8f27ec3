// Type-checked Cloudflare Worker (tsc with default lib settings, through the
// workerd export condition): the `.wasm` subpath is typed as a
// WebAssembly.Module for `initSync`. The JS twin, examples/worker/worker.mjs,
// is the one served by workerd in the test suite.
import { initSync, Scanner, Vault, restoreStream } from "promptsieve";
import wasm from "promptsieve/promptsieve_bg.wasm";

initSync({ module: wasm });
let scanner: Scanner | undefined;

interface Env {
  /** The secret the conversation's vault is sealed under. */
  VAULT_KEY: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    scanner ??= new Scanner();
    const { message, vault: sealed } = (await request.json()) as { message: string; vault?: string };
    const vault = sealed === undefined ? new Vault() : Vault.fromSealedJSON(sealed, env.VAULT_KEY);
    try {
      const d = scanner.check(message, { vault });
      if (d.action === "block") return Response.json({ reasons: d.reasons }, { status: 400 });
      // The model's streamed reply, restored chunk by chunk on its way out.
      const upstream = await fetch("https://llm.example/v1/chat", { method: "POST", body: d.redacted?.text ?? message });
      const body = upstream.body?.pipeThrough(new TextDecoderStream()).pipeThrough(restoreStream(vault)).pipeThrough(new TextEncoderStream());
      return new Response(body ?? null, { headers: { "x-vault": vault.toSealedJSON(env.VAULT_KEY) } });
    } finally {
      vault.free();
    }
  },
};
