#!/usr/bin/env python3
"""Writes the benchmark results table into benches/README.md.

Usage: python3 benches/report.py [--criterion DIR] [--readme FILE] [--stdout]

Reads criterion's `new/estimates.json` and `new/benchmark.json` under DIR
(default: $CARGO_TARGET_DIR/criterion, else target/criterion) for the
benchmarks of `benches/scan.rs`, and replaces the text between the
`<!-- results:begin -->` and `<!-- results:end -->` markers of the README
with tables of absolute figures and their ratios to the reference lines
measured in the same run. Uses criterion's median (robust to the other jobs
sharing this machine). Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import platform
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# Targets from the engine-v2 issue (its stretch goal for prose is 1 GB/s).
GB = 1e9
MB = 1e6
PROSE_TARGET = 300 * MB  # bytes per second
THROUGHPUT_TARGETS = {
    "prose-en": [("≥ 300 MB/s", lambda r: r["mbps"] * MB >= PROSE_TARGET),
                 ("≥ 20× RegexSet", lambda r: r["vs_set"] >= 20)],
    "prose-multi": [("≥ 100 MB/s", lambda r: r["mbps"] >= 100)],
}
LATENCY_TARGETS = {"100b": 5e-6, "4k": 25e-6}  # seconds, for scan
BUILD_TARGET = 20e-3  # seconds, default scanner
HOSTILE_TARGET = 10.0  # × prose-en time per byte


def load(criterion: pathlib.Path) -> dict[str, dict]:
    """Every benchmark under `criterion`: full id → median (s), bytes, mtime."""
    out = {}
    for est in criterion.glob("**/new/estimates.json"):
        meta = json.loads((est.parent / "benchmark.json").read_text())
        median = json.loads(est.read_text())["median"]["point_estimate"] / 1e9
        tp = (meta.get("throughput") or {}).get("Bytes")
        out[meta["full_id"]] = {"t": median, "bytes": tp, "mtime": est.stat().st_mtime}
    return out


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale:
            v = s / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{s * 1e9:.2g} ns"


def fmt_rate(mbps: float | None) -> str:
    if mbps is None:
        return "—"
    if mbps >= 1000:
        return f"{mbps / 1000:.3g} GB/s"
    return f"{mbps:.3g} MB/s"


def fmt_ratio(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "—"
    if pct:
        return f"{x * 100:.2g} %" if x < 0.1 else f"{x * 100:.0f} %"
    return f"{x:.2g}×" if x < 10 else f"{x:.0f}×"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def env_line(results: dict[str, dict]) -> str:
    def cmd(*args: str) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    cpu = "?"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    times = [r["mtime"] for r in results.values()]
    day = dt.datetime.fromtimestamp(max(times)).strftime("%Y-%m-%d") if times else "?"
    span = (max(times) - min(times)) / 60 if times else 0
    commit = cmd("git", "rev-parse", "--short", "HEAD")
    # Only what the measurement depends on: the engine, the packs and the benchmark itself.
    measured = ["crates/promptsieve", "rules", "benches/scan.rs", "benches/corpus.rs", "benches/reference.rs",
                "benches/data", "Cargo.lock"]
    changed = cmd("git", "status", "--porcelain", "--untracked-files=no", "--", *measured)
    dirty = " (with uncommitted changes to the engine, packs or benchmark)" if changed else ""
    line = (f"Measured {day} at commit `{commit}`{dirty}, {cmd('rustc', '--version')}, "
            f"{os.cpu_count()} × {cpu} ({platform.system()}), shared with other jobs.")
    if span > 120:
        line += (f" **Warning:** these results were written over {span:.0f} minutes; some may be"
                 " left over from an older run.")
    return line


def tables(r: dict[str, dict]) -> str:
    def t(key: str) -> float | None:
        return r[key]["t"] if key in r else None

    def nbytes(key: str) -> int | None:
        return r[key]["bytes"] if key in r else None

    def mbps(key: str) -> float | None:
        tt, b = t(key), nbytes(key)
        return None if tt is None or not b else b / tt / MB

    out = [env_line(r), ""]

    # Throughput.
    out += ["### Throughput: `scan` with the default packs, 64 KiB per corpus", "",
            "| corpus | scan | MB/s | memchr | scan ÷ memchr | RegexSet | scan ÷ RegexSet | target | met |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    corpora = sorted({k.split("/")[2] for k in r if k.startswith("throughput/scan/")},
                     key=lambda c: ["prose-en", "prose-multi", "code", "pii-dense", "benign", "attacks"].index(c)
                     if c in ["prose-en", "prose-multi", "code", "pii-dense", "benign", "attacks"] else 99)
    for c in corpora:
        s, m, x = f"throughput/scan/{c}", f"throughput/memchr/{c}", f"throughput/regexset/{c}"
        row = {"mbps": mbps(s), "vs_memchr": ratio(t(m), t(s)), "vs_set": ratio(t(x), t(s))}
        targets = THROUGHPUT_TARGETS.get(c, [])
        met = [f(row) if None not in row.values() else None for _, f in targets]
        out.append(
            f"| {c} | {fmt_time(t(s))} | {fmt_rate(row['mbps'])} | {fmt_rate(mbps(m))} | "
            f"{fmt_ratio(row['vs_memchr'], pct=True)} | {fmt_rate(mbps(x))} | {fmt_ratio(row['vs_set'])} | "
            f"{'; '.join(n for n, _ in targets) or '—'} | {'; '.join(verdict(v) for v in met) or '—'} |")

    # Latency.
    out += ["", "### Latency per prompt (default packs)", "",
            "| prompt | scan | redact | check | memchr | RegexSet | scan ÷ memchr | scan ÷ RegexSet | target (scan) | met |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for p in ["100b", "256b", "4k", "64k"]:
        s = t(f"latency/scan/{p}")
        if s is None:
            continue
        target = LATENCY_TARGETS.get(p)
        out.append(
            f"| {p} ({nbytes(f'latency/scan/{p}')} B) | {fmt_time(s)} | {fmt_time(t(f'latency/redact/{p}'))} | "
            f"{fmt_time(t(f'latency/check/{p}'))} | {fmt_time(t(f'latency/memchr/{p}'))} | "
            f"{fmt_time(t(f'latency/regexset/{p}'))} | {fmt_ratio(ratio(t(f'latency/memchr/{p}'), s), pct=True)} | "
            f"{fmt_ratio(ratio(t(f'latency/regexset/{p}'), s))} | "
            f"{'≤ ' + fmt_time(target) if target else '—'} | {verdict(s <= target) if target else '—'} |")

    # Build.
    base = t("build/regexset")
    out += ["", "### Engine build (cold start)", "",
            "| what | time | ÷ RegexSet build | target | met |", "|---|---:|---:|---|---|"]
    for key, label in [("build/default", "default scanner, `ScannerBuilder::new().build([])`"),
                       ("build/default+first-scan", "default scanner + first 100 B scan"),
                       ("build/regexset", "reference RegexSet + first match"),
                       ("build/phrases", "5,000-phrase pack alone (parse + build)"),
                       ("build/default+phrases", "default packs + 5,000-phrase pack")]:
        if key not in r:
            continue
        target = BUILD_TARGET if key == "build/default" else None
        out.append(f"| {label} | {fmt_time(t(key))} | {fmt_ratio(ratio(t(key), base))} | "
                   f"{'≤ ' + fmt_time(target) if target else '—'} | {verdict(t(key) <= target) if target else '—'} |")

    # Many phrases.
    ps, px, d = t("phrases/scan/prose-en"), t("phrases/regexset/prose-en"), t("throughput/scan/prose-en")
    if ps is not None:
        out += ["", "### Scan with the default packs + 5,000 generated phrases (64 KiB English prose)", "",
                "| scan | MB/s | time ÷ default-packs scan | RegexSet (same patterns) | scan ÷ RegexSet |",
                "|---:|---:|---:|---:|---:|",
                f"| {fmt_time(ps)} | {fmt_rate(mbps('phrases/scan/prose-en'))} | {fmt_ratio(ratio(ps, d))} | "
                f"{fmt_rate(mbps('phrases/regexset/prose-en'))} | {fmt_ratio(ratio(px, ps))} |"]

    # Hostile.
    prose_per_byte = ratio(t("throughput/scan/prose-en"), nbytes("throughput/scan/prose-en"))
    out += ["", "### Hostile inputs (1 MiB each)", "",
            "Per byte ÷ prose: the scan's time per byte on the input divided by its time per byte on "
            "the English prose corpus above.", "",
            "| input | scan | MB/s | per byte ÷ prose | target | met | memchr | scan ÷ memchr | RegexSet | scan ÷ RegexSet |",
            "|---|---:|---:|---:|---|---|---:|---:|---:|---:|"]
    inputs = [k.split("/")[2] for k in r if k.startswith("hostile/scan/")]
    order = ["one-char", "digits", "spaced-digits", "at-signs", "zero-width", "combining", "tag-chars",
             "base64", "names"]
    for h in sorted(inputs, key=lambda x: order.index(x) if x in order else 99):
        s, m, x = f"hostile/scan/{h}", f"hostile/memchr/{h}", f"hostile/regexset/{h}"
        per = ratio(ratio(t(s), nbytes(s)), prose_per_byte)
        out.append(
            f"| {h} | {fmt_time(t(s))} | {fmt_rate(mbps(s))} | {fmt_ratio(per)} | ≤ {HOSTILE_TARGET:.0f}× | "
            f"{verdict(per <= HOSTILE_TARGET) if per is not None else '—'} | {fmt_rate(mbps(m))} | "
            f"{fmt_ratio(ratio(t(m), t(s)), pct=True)} | {fmt_rate(mbps(x))} | {fmt_ratio(ratio(t(x), t(s)))} |")
    # The 10× rule is relative to today's prose speed; state what it means
    # once prose reaches its own target, so a slow baseline hides nothing.
    rates = [(mbps(f"hostile/scan/{h}"), h) for h in inputs if mbps(f"hostile/scan/{h}") is not None]
    if rates:
        floor = PROSE_TARGET / MB / HOSTILE_TARGET
        slow, name = min(rates)
        below = sum(1 for v, _ in rates if v < floor)
        out += ["", f"Once English prose scans at its {PROSE_TARGET / MB:.0f} MB/s target, the {HOSTILE_TARGET:.0f}× rule means at "
                f"least {fmt_rate(floor)} on every hostile input: {below} of {len(rates)} are below that "
                f"today (slowest: `{name}`, {fmt_rate(slow)})."]
    return "\n".join(out) + "\n"


def main() -> int:
    default_dir = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "criterion"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--criterion", type=pathlib.Path, default=default_dir)
    ap.add_argument("--readme", type=pathlib.Path, default=ROOT / "benches" / "README.md")
    ap.add_argument("--stdout", action="store_true", help="print the tables instead of editing the README")
    args = ap.parse_args()
    results = load(args.criterion)
    if not results:
        print(f"no criterion results under {args.criterion}", file=sys.stderr)
        return 1
    text = tables(results)
    if args.stdout:
        print(text)
        return 0
    readme = args.readme.read_text(encoding="utf-8")
    if BEGIN not in readme or END not in readme:
        print(f"{args.readme}: markers {BEGIN} / {END} not found", file=sys.stderr)
        return 1
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    args.readme.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")
    print(text)
    print(f"wrote {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
