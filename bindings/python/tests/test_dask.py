"""The Dask example: a JSONL dataset redacted on a LocalCluster on
127.0.0.1 with 2 worker processes."""

from __future__ import annotations

import json
import pathlib
import pickle
from typing import Any, Callable

import pytest

import promptsieve

pytest.importorskip("dask.distributed", reason="install the [dask] extra")  # scripts/test installs it

def test_unpickling_shares_one_scanner_per_configuration() -> None:
    s = promptsieve.Scanner(categories=["pii"])
    data = pickle.dumps(s)
    a, b = pickle.loads(data), pickle.loads(data)
    assert a is b and a is not s
    assert pickle.loads(pickle.dumps(promptsieve.Scanner(categories=["secret"]))) is not a


def test_redacts_a_jsonl_dataset_on_two_workers(tmp_path: pathlib.Path, load_example: Callable[[str], Any]) -> None:
    src = tmp_path / "in.jsonl"
    rows = []
    for i in range(3000):
        text = f"ticket {i}: customer user{i}@example.com called from +1 415 555 {i % 10000:04d}" if i % 3 == 0 else f"log line {i}: all good"
        rows.append({"id": i, "text": text})
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    # A custom rule pack must travel to the workers with the scanner.
    pack = '[[rule]]\nid = "ticket-id"\ncategory = "pii"\nentity = "TICKET"\nscore = 0.9\ndescription = "ticket ids"\nregex = "ticket [0-9]+"\n[rule.examples]\nmatch = ["ticket 12"]\nno_match = ["tickets"]\n'
    scanner = promptsieve.Scanner(rules=[pack], categories=["pii", "secret"])
    stats = load_example("dask_redact.py").redact_dataset(str(src), str(tmp_path / "out"), workers=2, blocksize="32KB", scanner=scanner)
    assert stats["rows"] == 3000 and stats["workers"] == 2
    out = [json.loads(line) for p in sorted((tmp_path / "out").glob("part-*.jsonl")) for line in p.open(encoding="utf-8")]
    assert len(list((tmp_path / "out").glob("part-*.jsonl"))) > 1  # really split across tasks
    by_id = {r["id"]: r for r in out}
    assert sorted(by_id) == list(range(3000))
    for i in (0, 3, 2997):
        assert by_id[i]["text"] == "[TICKET_1]: customer [EMAIL_1] called from [PHONE_1]"
        assert by_id[i]["redacted_entities"] == ["TICKET", "EMAIL", "PHONE"]
    assert by_id[1]["text"] == "log line 1: all good" and by_id[1]["redacted_entities"] == []
    assert not any("@example.com" in r["text"] for r in out)
