//! Prepares the embedded data (`rules/`) in the form the crate embeds, in
//! `$OUT_DIR/rules/`:
//!
//! - rule packs and grammar vocabularies are parsed and written as JSON
//!   (`*.json`; without comments, and read at start-up several times
//!   faster than TOML); without the `pack-examples` feature (the npm
//!   package's WebAssembly) also without their examples, which the Rust
//!   test suite runs from the same files;
//! - the word lists of `rules/dict/` are front-coded (each line: the
//!   length of the prefix it shares with the line before, then the rest),
//!   which roughly halves the sorted name dictionaries, the ones embedded
//!   this way; `util::front::decode` restores the lines.
//!
//! It also writes `bmp_alnum.bin`: `char::is_alphanumeric` for each code
//! point of the Basic Multilingual Plane, one bit each (`util::is_alnum`).
//!
//! The sources in `rules/` stay what people read and edit. The output is a
//! pure function of them, so builds are reproducible.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let rules = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../rules");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("rules");
    let examples = std::env::var_os("CARGO_FEATURE_PACK_EXAMPLES").is_some();
    for dir in ["packs", "grammar", "dict"] {
        fs::create_dir_all(out.join(dir)).unwrap();
        println!("cargo:rerun-if-changed={}", rules.join(dir).display());
    }
    // Every file of each folder: which ones are embedded is said once, by
    // the `include_str!`s of pack/mod.rs and detect/grammar.rs and the
    // `include_bytes!`s of detect/names/mod.rs.
    for name in files(&rules, "packs", ".toml") {
        rewrite(&rules, &out, &format!("packs/{name}"), |t| {
            if !examples && let Some(toml::Value::Array(rs)) = t.get_mut("rule") {
                for r in rs.iter_mut().filter_map(toml::Value::as_table_mut) {
                    r.remove("examples");
                }
            }
        });
    }
    for name in files(&rules, "grammar", ".toml") {
        rewrite(&rules, &out, &format!("grammar/{name}"), |t| {
            if !examples {
                t.remove("example");
                t.remove("counter");
            }
        });
    }
    // The build script runs on the same toolchain as the crate, so its
    // Unicode tables are the ones the crate would consult.
    let mut bits = vec![0u8; 0x10000 / 8];
    for cp in 0..0x10000u32 {
        if char::from_u32(cp).is_some_and(char::is_alphanumeric) {
            bits[cp as usize / 8] |= 1 << (cp % 8);
        }
    }
    write(&out.with_file_name("bmp_alnum.bin"), &bits);
    for name in files(&rules, "dict", ".txt") {
        let rel = format!("dict/{name}");
        let src = read(&rules, &rel);
        let stem = name.trim_end_matches(".txt");
        write(&out.join(format!("dict/{stem}.fc")), &front_code(&rel, &src));
    }
}

/// The names of the files in `rules/<dir>` ending in `ext`, sorted.
fn files(rules: &Path, dir: &str, ext: &str) -> Vec<String> {
    let path = rules.join(dir);
    let mut names: Vec<String> = fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    names.sort();
    names
}

fn read(rules: &Path, rel: &str) -> String {
    let path = rules.join(rel);
    println!("cargo:rerun-if-changed={}", path.display());
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes only when the content changed, so a rebuild does not touch the
/// file (and recompile the crate) for nothing.
fn write(path: &Path, data: &[u8]) {
    if fs::read(path).ok().as_deref() != Some(data) {
        fs::write(path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

fn rewrite(rules: &Path, out: &Path, rel: &str, edit: impl Fn(&mut toml::Table)) {
    let src = read(rules, rel);
    // A syntax error is reported by the crate's own tests with the file's
    // line numbers, so here it only stops the build with the same message.
    let mut table: toml::Table = toml::from_str(&src).unwrap_or_else(|e| panic!("rules/{rel}: {e}"));
    edit(&mut table);
    let text = serde_json::to_string(&table).unwrap_or_else(|e| panic!("rules/{rel}: {e}"));
    write(&out.join(rel).with_extension("json"), text.as_bytes());
}

/// Front-codes a sorted dictionary (comment lines dropped): per entry one
/// byte with the length of the prefix shared with the entry before (at most
/// 255), the remaining bytes, and a newline.
fn front_code(rel: &str, src: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() / 2);
    let mut prev: &[u8] = &[];
    for line in src.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let b = line.as_bytes();
        let k = b.iter().zip(prev).take_while(|(x, y)| x == y).count().min(255);
        assert!(!b.contains(&b'\r'), "rules/{rel}: carriage return in {line:?}");
        out.push(k as u8);
        out.extend_from_slice(&b[k..]);
        out.push(b'\n');
        prev = b;
    }
    out
}
