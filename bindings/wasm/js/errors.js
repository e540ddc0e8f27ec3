// Error classes thrown by the package. `RuleError` names the rule pack and
// rule that were refused; both are `PromptsieveError`s, which are `Error`s.
export class PromptsieveError extends Error {
  constructor(message) {
    super(message);
    this.name = "PromptsieveError";
  }
}

export class RuleError extends PromptsieveError {
  constructor(message, pack, rule, reason) {
    super(message);
    this.name = "RuleError";
    this.pack = pack ?? null;
    this.rule = rule ?? null;
    this.reason = reason ?? null;
  }
}

export function makeError(kind, message, pack, rule, reason) {
  return kind === "rule" ? new RuleError(message, pack, rule, reason) : new PromptsieveError(message);
}
