"""Redact a JSONL dataset with Dask: personal data and secrets in one text
field of every record are replaced by placeholders, on every worker.

The Scanner is passed to the tasks as an ordinary argument: it pickles by
configuration (rule sources included) and each worker rebuilds it once per
task, so custom rule packs travel too.

    python examples/dask_redact.py in.jsonl out_dir [--field text] [--workers 2]

Prints the throughput. Install with ``pip install promptsieve[dask]``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from typing import Any, Dict, Iterable, List

import dask.bag as db
from dask.distributed import Client, LocalCluster

import promptsieve


def redact_partition(records: Iterable[Dict[str, Any]], scanner: promptsieve.Scanner, field: str) -> List[str]:
    """Redacts ``field`` in each record and lists what it replaced in
    ``redacted_entities``; returns JSON lines. Records without a string
    ``field`` pass through unchanged."""
    out = []
    for record in records:
        text = record.get(field)
        if isinstance(text, str):
            red = scanner.redact(text)
            record = {**record, field: red.text, "redacted_entities": [x.entity_type for x in red.replacements]}
        out.append(json.dumps(record, ensure_ascii=False))
    return out


def redact_dataset(
    src: str,
    out_dir: str,
    *,
    field: str = "text",
    workers: int = 2,
    blocksize: str = "4MB",
    scanner: promptsieve.Scanner | None = None,
) -> Dict[str, Any]:
    """Redacts ``src`` (JSONL) into ``out_dir/part-*.jsonl`` on a local Dask
    cluster on 127.0.0.1; returns counts and throughput."""
    scanner = scanner or promptsieve.Scanner(categories=["pii", "secret"])
    size = pathlib.Path(src).stat().st_size
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, Client(cluster) as client:
        started = time.perf_counter()
        bag = db.read_text(src, blocksize=blocksize).map(json.loads)
        lines = bag.map_partitions(redact_partition, scanner, field)
        pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
        lines.to_textfiles(str(pathlib.Path(out_dir) / "part-*.jsonl"))
        elapsed = time.perf_counter() - started
        client.close()
    rows = sum(1 for p in pathlib.Path(out_dir).glob("part-*.jsonl") for _ in p.open(encoding="utf-8"))
    return {"rows": rows, "bytes": size, "seconds": elapsed, "mb_per_s": size / elapsed / 1e6, "workers": workers}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("out_dir")
    ap.add_argument("--field", default="text")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--blocksize", default="4MB")
    args = ap.parse_args()
    stats = redact_dataset(args.src, args.out_dir, field=args.field, workers=args.workers, blocksize=args.blocksize)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
