//! Generates `js/types.d.ts` from the core's serde types (their JSON
//! schemas, which follow every serde attribute: renames, defaults, untagged
//! enums), so the npm package's option and result types are never kept by
//! hand. The test fails when the checked-in file is stale; run it with
//! `PROMPTSIEVE_WRITE_TYPES=1` to rewrite the file.

use promptsieve::bind::{DecisionData, MessagesData, MessagesDecisionData, RedactedData, ReportData};
use promptsieve::{
    Audit, CheckOptions, OutputContext, RedactOptions, RuleInfo, ScannerConfig, Source, Vault, VaultEntry,
};
use schemars::SchemaGenerator;
use serde_json::{Map, Value};

/// The TypeScript type of one schema.
fn ts(s: &Value) -> String {
    let Some(o) = s.as_object() else { return "unknown".into() };
    if let Some(Value::String(t)) = o.get("x-ts") {
        return t.clone();
    }
    if let Some(Value::String(r)) = o.get("$ref") {
        return r.rsplit('/').next().unwrap_or("unknown").to_string();
    }
    if let Some(c) = o.get("const") {
        return c.to_string();
    }
    if let Some(Value::Array(e)) = o.get("enum") {
        return e.iter().map(Value::to_string).collect::<Vec<_>>().join(" | ");
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alts)) = o.get(key) {
            return alts.iter().map(ts).collect::<Vec<_>>().join(" | ");
        }
    }
    let one = |t: &str| -> String {
        match t {
            "string" => "string".into(),
            "integer" | "number" => "number".into(),
            "boolean" => "boolean".into(),
            "null" => "null".into(),
            "array" => {
                let item = o.get("items").map_or_else(|| "unknown".into(), ts);
                if item.contains(' ') { format!("Array<{item}>") } else { format!("{item}[]") }
            }
            "object" => object(o),
            _ => "unknown".into(),
        }
    };
    match o.get("type") {
        Some(Value::String(t)) => one(t),
        Some(Value::Array(ts)) => {
            ts.iter().filter_map(Value::as_str).map(one).collect::<Vec<_>>().join(" | ")
        }
        _ => "unknown".into(),
    }
}

/// An object schema: an inline interface body, or a record.
fn object(o: &Map<String, Value>) -> String {
    let Some(Value::Object(props)) = o.get("properties") else {
        let v = o.get("additionalProperties").map_or_else(|| "unknown".into(), ts);
        return format!("Record<string, {v}>");
    };
    let required: Vec<&str> =
        o.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = String::from("{\n");
    for (name, p) in props {
        if let Some(Value::String(d)) = p.get("description") {
            out += &format!("  /** {} */\n", summary(d));
        }
        let opt = if required.contains(&name.as_str()) { "" } else { "?" };
        out += &format!("  {name}{opt}: {};\n", ts(p));
    }
    out + "}"
}

/// The first paragraph of a doc comment, on one line, without rustdoc links.
fn summary(doc: &str) -> String {
    let first = doc.split("\n\n").next().unwrap_or_default();
    first.replace('\n', " ").replace("[`", "`").replace("`]", "`").replace("*/", "* /")
}

/// The entity names the default packs report and their aliases
/// (rules/entities.toml), open to a custom pack's own.
fn entities() -> String {
    let file = include_str!("../../../rules/entities.toml");
    let mut names: Vec<String> = Vec::new();
    for line in file.lines().filter(|l| l.contains("= [")) {
        names.extend(line.split('"').skip(1).step_by(2).map(str::to_string));
        names.push(line.split('=').next().unwrap_or_default().trim().to_string());
    }
    names.sort();
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        "\n/** Entity names of the default packs (rules/entities.toml) and their aliases; custom packs add their own. */\n\
         export type Entity = {} | (string & {{}});\n",
        quoted.join(" | ")
    )
}

/// OpenAI's chat message shape, which message lists follow (not a Rust type).
const MESSAGE: &str = "\n/** An OpenAI-style chat message: content as a string or as parts (text parts are scanned). */\n\
export interface Message {\n  role: string;\n  content?: string | Array<{ type: string; text?: string; [key: string]: unknown }> | null;\n  [key: string]: unknown;\n}\n";

fn generate() -> String {
    let mut g = SchemaGenerator::default();
    // The roots; everything they refer to comes along as a definition.
    let roots = [
        ("ScannerOptions", g.subschema_for::<ScannerConfig>()),
        ("RedactOptionsData", g.subschema_for::<RedactOptions>()),
        ("CheckOptionsData", g.subschema_for::<CheckOptions>()),
        ("OutputContext", g.subschema_for::<OutputContext>()),
        ("Source", g.subschema_for::<Source>()),
        ("ReportData", g.subschema_for::<ReportData>()),
        ("RedactedData", g.subschema_for::<RedactedData>()),
        ("DecisionData", g.subschema_for::<DecisionData>()),
        ("RedactedMessages", g.subschema_for::<MessagesData>()),
        ("MessagesDecisionData", g.subschema_for::<MessagesDecisionData>()),
        ("RuleInfo", g.subschema_for::<RuleInfo>()),
        ("Audit", g.subschema_for::<Audit>()),
        ("VaultEntry", g.subschema_for::<VaultEntry>()),
        ("VaultData", g.subschema_for::<Vault>()),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by bindings/wasm/tests/typescript.rs: do not edit.\n\
         // `PROMPTSIEVE_WRITE_TYPES=1 cargo test -p promptsieve-wasm --test typescript` rewrites it.\n",
    );
    out += &entities();
    out += MESSAGE;
    let defs = g.definitions().clone();
    let mut names: Vec<&String> = defs.keys().collect();
    names.sort();
    for name in names {
        let s = &defs[name];
        if let Some(Value::String(d)) = s.get("description") {
            out += &format!("\n/** {} */\n", summary(d));
        } else {
            out += "\n";
        }
        let body = ts(s);
        if body.starts_with('{') {
            out += &format!("export interface {name} {body}\n");
        } else {
            out += &format!("export type {name} = {body};\n");
        }
    }
    // Roots whose Rust name differs from the name the package uses.
    for (alias, s) in roots {
        let target = ts(&serde_json::to_value(&s).unwrap());
        if target != alias {
            out += &format!("\nexport type {alias} = {target};\n");
        }
    }
    out
}

#[test]
fn declarations_are_generated_from_the_rust_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/js/types.d.ts");
    let want = generate();
    if std::env::var_os("PROMPTSIEVE_WRITE_TYPES").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "js/types.d.ts is stale: run PROMPTSIEVE_WRITE_TYPES=1 cargo test -p promptsieve-wasm --test typescript"
    );
}
