// The package's public API, over the native classes of src/lib.rs. Options
// are passed to the engine as JSON (it validates them: unknown keys, rule
// ids and entity names are errors there, the same as in Rust and Python);
// results come back as JSON and are plain objects, so optional fields are
// `null`, `JSON.stringify` gives data, and `restore` is bound.
// scripts/build-wasm copies this file next to each target's module (and
// writes a CommonJS copy for the Node build).

/** @param {typeof import("../pkg/web/promptsieve_native.js")} native the wasm-bindgen module (js/tsconfig.json checks the calls against its declarations) */
export function makeApi(native) {
  const need = (name, value) => {
    if (typeof value !== "string") {
      throw new TypeError(`${name} must be a string, not ${value === null ? "null" : typeof value}`);
    }
    return value;
  };
  // An optional source name: a non-string would reach wasm-bindgen's string
  // copy and trap, so it is refused here like a non-string text.
  const sourceOf = (source) => (source === undefined || source === null ? "user" : need("source", source));
  const json = (value, what) => {
    if (value === undefined || value === null) return "{}";
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new TypeError(`${what} options must be an object`);
    }
    return JSON.stringify(value);
  };
  // Splits the `vault` handle off an options object; the engine gets the rest.
  const split = (options) => {
    if (options === undefined || options === null) return [undefined, undefined];
    if (typeof options !== "object" || Array.isArray(options)) throw new TypeError("options must be an object");
    const { vault, ...rest } = options;
    if (vault !== undefined && !(vault instanceof Vault)) throw new TypeError("vault must be a Vault");
    return [vault, rest];
  };
  // Chunks of a stream: a JS string may end between the two halves of a
  // surrogate pair (wasm-bindgen would turn each half into U+FFFD), so a
  // trailing high surrogate waits for the next chunk. `rest()` gives it up
  // at the end of the stream.
  const chunker = () => {
    let high = "";
    const next = (chunk) => {
      let s = high + need("chunk", chunk);
      const c = s.charCodeAt(s.length - 1);
      high = c >= 0xd800 && c <= 0xdbff ? s.slice(-1) : "";
      return high ? s.slice(0, -1) : s;
    };
    const rest = () => {
      const s = high;
      high = "";
      return s;
    };
    return { next, rest };
  };
  // What fromJSON reads: JSON text, or the object it stands for; the engine
  // validates either (a PromptsieveError names what is wrong).
  const jsonText = (data, what) => {
    if (typeof data === "string") return data;
    if (typeof data !== "object" || data === null) throw new TypeError(`${what} takes an object or its JSON text`);
    return JSON.stringify(data);
  };
  // A Vault's native half, for this module only (not a public member).
  let nativeOf;
  // Runs `f` with the caller's vault, or a temporary one freed afterwards.
  const withVault = (vault, f) => {
    if (vault) return f(nativeOf(vault));
    const tmp = new native.NativeVault();
    try {
      return f(tmp);
    } finally {
      tmp.free();
    }
  };
  // A result with replacements (a redaction, a message list's) gets a bound
  // `restore` over its own replacements, so it restores without a vault and
  // after a JSON round trip, and `toJSON` gives back the plain data.
  const restorable = (data) => {
    const plain = JSON.stringify(data);
    const wire = JSON.stringify({ text: "", replacements: data.replacements });
    const restore = (reply) => native.restoreJson(wire, need("reply", reply));
    return Object.assign(data, { restore, toJSON: () => JSON.parse(plain) });
  };
  const redacted = (data) => (data === null ? null : restorable(data));
  const decision = (data) => {
    const plain = JSON.parse(JSON.stringify(data));
    data.redacted = redacted(data.redacted);
    data.toJSON = () => plain;
    return data;
  };

  // wasm-bindgen registers every native object with a FinalizationRegistry
  // of its own, so a collected wrapper frees its native half; free() (and
  // Symbol.dispose) only do it now, once.

  /** Placeholders for one conversation: stable across turns, one `restore` for every reply. */
  class Vault {
    #n;
    #freed = false;
    constructor(n) {
      this.#n = n instanceof native.NativeVault ? n : new native.NativeVault();
    }
    static {
      nativeOf = (v) => v.#n;
    }
    /** Puts every value this vault holds back into `reply`. */
    restore = (reply) => this.#n.restore(need("reply", reply));
    /** Number of distinct values held. */
    get size() {
      return this.#n.size();
    }
    /** The plain JSON form (`JSON.stringify(vault)` works). */
    toJSON() {
      return JSON.parse(this.#n.toJson());
    }
    /** Encrypted and authenticated under `key` (ChaCha20-Poly1305): a string. */
    toSealedJSON(key) {
      return this.#n.toSealedJson(need("key", key));
    }
    /** Reads `toJSON()`'s output (an object or its JSON text). */
    static fromJSON(data) {
      return new Vault(native.NativeVault.fromJson(jsonText(data, "Vault.fromJSON")));
    }
    /** Reads `toSealedJSON(key)`'s output; a wrong key or altered text throws. */
    static fromSealedJSON(text, key) {
      return new Vault(native.NativeVault.fromSealedJson(need("sealed", text), need("key", key)));
    }
    /** A chunk-by-chunk restorer: `push(chunk)` → text safe to emit, `finish()`. */
    restorer() {
      const r = this.#n.restorer();
      const c = chunker();
      return {
        push: (chunk) => r.push(c.next(chunk)),
        finish: () => r.push(c.rest()) + r.finish(),
        held: () => r.held(),
      };
    }
    /** Frees the native memory now (it is also freed when collected); a second call does nothing. */
    free() {
      if (this.#freed) return;
      this.#freed = true;
      this.#n.free();
    }
  }

  /** A `TransformStream<string, string>` that restores `vault`'s placeholders, holding back only a possible partial one. */
  function restoreStream(vault) {
    if (!(vault instanceof Vault)) throw new TypeError("restoreStream takes a Vault");
    const r = vault.restorer();
    return new TransformStream({
      transform(chunk, controller) {
        const out = r.push(chunk);
        if (out) controller.enqueue(out);
      },
      flush(controller) {
        const out = r.finish();
        if (out) controller.enqueue(out);
      },
    });
  }

  /** A compiled scanner. Build once, reuse. */
  class Scanner {
    #n;
    #freed = false;
    constructor(options) {
      this.#n = new native.NativeScanner(json(options, "scanner"));
    }
    get threshold() {
      return this.#n.threshold();
    }
    scan(text, source) {
      return JSON.parse(this.#n.scan(need("text", text), sourceOf(source)));
    }
    sanitize(text) {
      return this.#n.sanitize(need("text", text));
    }
    scanOutput(reply, context) {
      return JSON.parse(withVault(undefined, (v) => this.#n.call("scan_output", need("reply", reply), json(context, "output context"), v)));
    }
    redact(text, options) {
      need("text", text);
      const [vault, rest] = split(options);
      return redacted(JSON.parse(withVault(vault, (v) => this.#n.call("redact", text, json(rest, "redact"), v))));
    }
    check(text, options) {
      need("text", text);
      // check(text, "document"): the source alone.
      if (typeof options === "string") options = { source: options };
      const [vault, rest] = split(options);
      return decision(JSON.parse(withVault(vault, (v) => this.#n.call("check", text, json(rest, "check"), v))));
    }
    redactMessages(messages, options) {
      if (!Array.isArray(messages)) throw new TypeError("messages must be an array");
      const [vault, rest] = split(options);
      const m = JSON.stringify(messages);
      return restorable(JSON.parse(withVault(vault, (v) => this.#n.call("redact_messages", m, json(rest, "redact"), v))));
    }
    checkMessages(messages, options) {
      if (!Array.isArray(messages)) throw new TypeError("messages must be an array");
      const [vault, rest] = split(options);
      const m = JSON.stringify(messages);
      return restorable(JSON.parse(withVault(vault, (v) => this.#n.call("check_messages", m, json(rest, "check"), v))));
    }
    outputStream(context) {
      const o = this.#n.outputStream(json(context, "output context"));
      const c = chunker();
      return {
        push: (chunk) => JSON.parse(o.push(c.next(chunk))).findings,
        get shouldStop() {
          return o.shouldStop();
        },
        finish: () => {
          o.push(c.rest());
          return JSON.parse(o.finish());
        },
      };
    }
    rules() {
      return JSON.parse(this.#n.rules());
    }
    verifyExamples() {
      return JSON.parse(this.#n.verifyExamples());
    }
    audit(text, key, source) {
      return JSON.parse(this.#n.audit(need("text", text), sourceOf(source), need("key", key)));
    }
    free() {
      if (this.#freed) return;
      this.#freed = true;
      this.#n.free();
    }
  }

  /** Rebuilds a redaction result kept across requests (from `JSON.stringify(redacted)`). */
  const Redacted = {
    fromJSON(data) {
      const text = jsonText(data, "Redacted.fromJSON");
      // The engine reads the data now, so a damaged result fails here and
      // not at the first restore, perhaps a request later.
      native.restoreJson(text, "");
      return restorable(JSON.parse(text));
    },
  };

  // `using vault = new Vault()` frees at the end of the scope where the
  // runtime has `Symbol.dispose` (Node >= 20, current browsers); elsewhere
  // free() and the FinalizationRegistry remain.
  if (typeof Symbol.dispose === "symbol") {
    for (const C of [Scanner, Vault]) C.prototype[Symbol.dispose] = C.prototype.free;
  }

  return { Scanner, Vault, Redacted, restoreStream, version: native.version };
}
