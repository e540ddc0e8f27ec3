// Type-checked browser usage (tsc with default lib settings): the `browser`
// export resolves to the web build, whose default export is `init`.
import init, { Scanner, Vault, restoreStream, type Report } from "promptsieve";

export async function setup(input: HTMLTextAreaElement): Promise<void> {
  await init();
  const scanner = new Scanner();
  const vault = new Vault();
  const report: Report = scanner.scan(input.value);
  const redacted = scanner.redact(input.value, { vault });
  input.value = redacted.text;
  const res = await fetch("/llm", { method: "POST", body: JSON.stringify({ prompt: redacted.text }) });
  const body = res.body;
  if (body) {
    const text = body.pipeThrough(new TextDecoderStream()).pipeThrough(restoreStream(vault));
    for await (const piece of text as unknown as AsyncIterable<string>) console.log(piece);
  }
  console.log(report.flagged);
}
