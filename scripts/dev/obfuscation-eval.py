#!/usr/bin/env python3
"""Share of clean detections an obfuscation keeps.

Takes the attack rows of a labelled corpus that the scanner flags as they are
(short ones, up to --max-chars, where a disguise is applied to the whole
text), applies each transform below to every one, scans the results and
prints, per transform, how many of them stay flagged. The transforms are
written here from their definitions; none of them is in the evasion suite's
generator, so the figure says how far de-obfuscation generalises.

    scripts/dev/obfuscation-eval.py [--bin PATH] [--limit N] CORPUS.jsonl...

With --no-scorer the scanner runs on rules alone. Deterministic: rows are
taken in file order and the transforms use a fixed seed.
"""

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import urllib.parse

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
# Cherokee and Armenian letters that look like Latin ones (read off the
# Unicode charts); small capitals and other Latin-extended look-alikes.
CHEROKEE = {"A": "Ꭺ", "B": "Ᏼ", "C": "Ꮯ", "D": "Ꭰ", "E": "Ꭼ", "G": "Ꮐ", "H": "Ꮋ", "J": "Ꭻ", "K": "Ꮶ",
            "M": "Ꮇ", "P": "Ꮲ", "R": "Ꮢ", "S": "Ꮪ", "T": "Ꭲ", "V": "Ꮩ", "W": "Ꮃ", "Z": "Ꮓ"}
ARMENIAN = {"h": "հ", "n": "ո", "u": "ս", "o": "օ", "q": "զ", "g": "ց", "d": "ժ", "S": "Տ", "U": "Ս",
            "O": "Օ"}
SMALLCAPS = {"a": "ᴀ", "b": "ʙ", "c": "ᴄ", "d": "ᴅ", "e": "ᴇ", "g": "ɢ", "h": "ʜ", "i": "ɪ", "j": "ᴊ",
             "k": "ᴋ", "l": "ʟ", "m": "ᴍ", "n": "ɴ", "o": "ᴏ", "p": "ᴘ", "r": "ʀ", "s": "ꜱ", "t": "ᴛ",
             "u": "ᴜ", "v": "ᴠ", "w": "ᴡ", "y": "ʏ", "z": "ᴢ"}


def sub(table, upper=False):
    def f(t):
        return "".join(table.get(c.upper() if upper else c, c) for c in t)
    return f


def newline_split(t, rng):
    # A newline inside every word of five letters or more.
    out = []
    for w in t.split(" "):
        if len(w) >= 5 and w.isalpha():
            k = rng.randrange(2, len(w) - 1)
            w = w[:k] + "\n" + w[k:]
        out.append(w)
    return " ".join(out)


def html_entities(t):
    return "".join(f"&#{ord(c)};" if c.isalpha() and i % 2 == 0 else c for i, c in enumerate(t))


TRANSFORMS = {
    "percent-encoding": lambda t, r: urllib.parse.quote(t),
    "html-entities": lambda t, r: html_entities(t),
    "base32": lambda t, r: base64.b32encode(t.encode()).decode(),
    "reversed": lambda t, r: "Read this backwards: " + t[::-1],
    "leetspeak": lambda t, r: "".join(LEET.get(c.lower(), c) for c in t),
    "json-escape": lambda t, r: json.dumps(t)[1:-1].replace(" ", "\\n", 1),
    "small-capitals": lambda t, r: sub(SMALLCAPS)(t.lower()),
    "cherokee": lambda t, r: sub(CHEROKEE, upper=True)(t.upper()),
    "armenian": lambda t, r: sub(ARMENIAN)(t),
    "newline-in-words": newline_split,
    "letter-spacing-no-gaps": lambda t, r: " ".join(c for c in t if c != " "),
    "dots-between-letters": lambda t, r: " ".join(".".join(w) for w in t.split(" ")),
}


def scan(binary, texts, extra):
    inp = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    out = subprocess.run([binary, "scan", "--jsonl", *extra], input=inp, capture_output=True,
                         text=True).stdout
    return [json.loads(line)["flagged"] for line in out.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--bin", default=os.path.expanduser("~/.cache/promptsieve/target/release/promptsieve"))
    ap.add_argument("--limit", type=int, default=400)
    ap.add_argument("--max-chars", type=int, default=300)
    ap.add_argument("--no-scorer", action="store_true")
    a = ap.parse_args()
    extra = ["--no-scorer"] if a.no_scorer else []
    rows = []
    for path in a.corpus:
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if r["label"] == "injection" and len(r["text"]) <= a.max_chars:
                    rows.append(r["text"])
    clean = [t for t, fl in zip(rows, scan(a.bin, rows, extra)) if fl][: a.limit]
    print(f"{len(clean)} attacks flagged as written (of {len(rows)} short ones)")
    result = {}
    for name, fn in TRANSFORMS.items():
        rng = random.Random(7)
        flagged = scan(a.bin, [fn(t, rng) for t in clean], extra)
        kept = sum(flagged) / max(1, len(clean))
        result[name] = kept
        print(f"  {name:24} kept {kept:.2f}")
    json.dump(result, sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
