// Type-checked Cloudflare Worker (tsc with default lib settings): the `.wasm`
// subpath is typed as a WebAssembly.Module for `initSync`.
import { initSync, Scanner, Vault } from "promptsieve";
import wasm from "promptsieve/promptsieve_bg.wasm";

initSync({ module: wasm });
let scanner: Scanner | undefined;

export default {
  async fetch(request: Request): Promise<Response> {
    scanner ??= new Scanner();
    const { message } = (await request.json()) as { message: string };
    const vault = new Vault();
    const d = scanner.check(message, { vault });
    if (d.action === "block") return Response.json({ reasons: d.reasons }, { status: 400 });
    return Response.json({ message: d.redacted?.text ?? message, vault: vault.toSealedJSON("key") });
  },
};
