#!/usr/bin/env python3
"""Builds benches/data/pii-dense.txt from the synthetic PII dev set.

Usage: python3 benches/data/make-pii-dense.py [PATH/TO/pii/dev.jsonl]

Keeps every 6th row that has at least one gold span and no API_KEY span
(the API_KEY rows hold random strings in real key shapes, which secret
scanners on the hosting side would flag), in file order, one row per line.
The output is deterministic: rerunning it gives the same bytes.
"""

import json
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent
src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else here / "../../../shared/corpus/pii/dev.jsonl")
rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
keep = [r for r in rows if r["spans"] and not any(s["label"] == "API_KEY" for s in r["spans"])]
out = "\n".join(r["text"] for r in keep[::6]) + "\n"
(here / "pii-dense.txt").write_text(out, encoding="utf-8")
print(f"pii-dense.txt: {len(keep[::6])} rows, {len(out.encode())} bytes")
