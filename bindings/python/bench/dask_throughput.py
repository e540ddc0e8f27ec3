"""Throughput of examples/dask_redact.py: a JSONL dataset built from the PII
dev corpus (repeated to --mb megabytes) redacted on a LocalCluster with 1
and with 2 worker processes. Run by scripts/bench-python; prints JSON."""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import tempfile
import time
from typing import Any, Dict

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "bindings" / "python" / "examples" / "dask_redact.py"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=16)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("dask_redact", EXAMPLE)
    assert spec and spec.loader
    example: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    rows = [json.loads(line)["text"] for line in (ROOT.parent / "shared" / "corpus" / "pii" / "dev.jsonl").open(encoding="utf-8")]
    result: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "data.jsonl"
        with src.open("w", encoding="utf-8") as f:
            i = 0
            while f.tell() < args.mb * 1_000_000:
                f.write(json.dumps({"id": i, "text": rows[i % len(rows)]}, ensure_ascii=False) + "\n")
                i += 1
        result["rows"] = i
        for workers in (1, 2):
            t = time.perf_counter()
            stats = example.redact_dataset(str(src), str(pathlib.Path(tmp) / f"out{workers}"), workers=workers, blocksize="1MB")
            stats["wall_with_cluster_start_s"] = round(time.perf_counter() - t, 2)
            stats["mb_per_s"] = round(stats["mb_per_s"], 2)
            stats["seconds"] = round(stats["seconds"], 2)
            result[f"workers_{workers}"] = stats
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
