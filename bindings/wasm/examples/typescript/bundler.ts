// Type-checked bundler usage (webpack 5 with asyncWebAssembly, Vite with a
// wasm plugin): `promptsieve/bundler` instantiates itself, so it has no init.
import { Scanner, type Report } from "promptsieve/bundler";
// @ts-expect-error: the bundler build exports no initSync (nor init).
import { initSync } from "promptsieve/bundler";

export function scan(text: string): Report {
  void initSync;
  return new Scanner().scan(text);
}
