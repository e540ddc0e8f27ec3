#!/usr/bin/env python3
"""Build promptsieve's benign evaluation set (eval/benign/*.jsonl).

Python 3.11, standard library only. Deterministic: every input list is sorted,
every pseudo-random choice comes from random.Random seeded with a fixed string,
and output is written with sorted, fixed JSON formatting. Two runs on the same
machine image give byte-identical files.

Inputs:
  written/*.txt      rows written for promptsieve (see SOURCES.md for format)
  machine material   locale .mo catalogues, crate sources, Python stdlib, npm,
                     /usr/include, CA certificates, distro-info CSVs, dpkg logs,
                     git history of this repository at a fixed commit.

A missing machine source is an error (so the output never silently shrinks);
pass --allow-missing to skip it instead (the result is then NOT the committed set).

Usage: python3 eval/benign/build.py [--check] [--allow-missing]
  --check   build into memory and compare with the committed files (exit 1 on drift)
"""
from __future__ import annotations

import base64
import gettext
import glob
import hashlib
import json
import os
import random
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WRITTEN = os.path.join(HERE, "written")
HOME = os.path.expanduser("~")
CARGO_SRC = sorted(glob.glob(os.path.join(HOME, ".cargo/registry/src/*")))
MIN_LEN, MAX_LEN = 20, 3000
ALLOW_MISSING = "--allow-missing" in sys.argv

# Fixed commit of this repository whose history is used for git log / diff rows.
GIT_COMMIT = "09aeb6062541d301a7b3781a8a4b975bc583b967"
# dpkg/apt log lines after this instant are ignored (the logs grow on every install).
LOG_CUTOFF = "2026-11-01"

LRM, RLM, ALM = "\u200e", "\u200f", "\u061c"
LRE, RLE, PDF = "\u202a", "\u202b", "\u202c"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
ZWJ, ZWNJ, VS16, NNBSP = "\u200d", "\u200c", "\ufe0f", "\u202f"

MACROS = {
    "LRM": LRM, "RLM": RLM, "ALM": ALM, "LRE": LRE, "RLE": RLE, "PDF": PDF,
    "LRI": LRI, "RLI": RLI, "FSI": FSI, "PDI": PDI, "ZWJ": ZWJ, "ZWNJ": ZWNJ,
    "VS16": VS16, "NBSP": "\u00a0", "NNBSP": NNBSP, "TAB": "\t",
    # emoji with variation selectors, skin tones and ZWJ sequences
    "heart": "\u2764\ufe0f",
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "facepalm_m": "\U0001f926\u200d\u2642\ufe0f",
    "facepalm_f": "\U0001f926\U0001f3fc\u200d\u2640\ufe0f",
    "shrug_f": "\U0001f937\u200d\u2640\ufe0f",
    "shrug_m": "\U0001f937\U0001f3fe\u200d\u2642\ufe0f",
    "thumbs_tone": "\U0001f44d\U0001f3fd",
    "thumbs": "\U0001f44d",
    "rainbow_flag": "\U0001f3f3\ufe0f\u200d\U0001f308",
    "check": "\u2714\ufe0f",
    "sun": "\u2600\ufe0f",
    "couple": "\U0001f469\u200d\u2764\ufe0f\u200d\U0001f468",
    "cook": "\U0001f9d1\U0001f3fb\u200d\U0001f373",
    "runner_f": "\U0001f3c3\u200d\u2640\ufe0f",
    "pray": "\U0001f64f\U0001f3fb",
    "wave": "\U0001f44b\U0001f3ff",
    "party": "\U0001f973",
    "joy": "\U0001f602",
    "cry": "\U0001f62d",
    "fire": "\U0001f525",
    "eyes": "\U0001f440",
    "warning": "\u26a0\ufe0f",
    "phone": "\u260e\ufe0f",
    "pin": "\U0001f4cd",
    "cake": "\U0001f382",
    "dog": "\U0001f415\u200d\U0001f9ba",
    "cat_black": "\U0001f408\u200d\u2b1b",
    "pirate": "\U0001f3f4\u200d\u2620\ufe0f",
    "de_flag": "\U0001f1e9\U0001f1ea",
    "br_flag": "\U0001f1e7\U0001f1f7",
    "keycap1": "1\ufe0f\u20e3",
    "keycap2": "2\ufe0f\u20e3",
    "snowflake": "\u2744\ufe0f",
    "coffee": "\u2615",
    "smile": "\U0001f642",
    "sweat": "\U0001f605",
    "raised_hands": "\U0001f64c",
    "ok_hand_tone": "\U0001f44c\U0001f3fe",
    "mechanic": "\U0001f9d1\u200d\U0001f527",
    "technologist": "\U0001f469\U0001f3fd\u200d\U0001f4bb",
    "hundred": "\U0001f4af",
    "rocket": "\U0001f680",
    "see_no": "\U0001f648",
    "skull": "\U0001f480",
    "eye_speech": "\U0001f441\ufe0f\u200d\U0001f5e8\ufe0f",
}
MACRO_RE = re.compile(r"\{\{([A-Za-z0-9_]+)\}\}")


def expand(text: str) -> str:
    return MACRO_RE.sub(lambda m: MACROS.get(m.group(1), m.group(0)), text)


def missing(what: str) -> None:
    if ALLOW_MISSING:
        print(f"warning: missing machine source {what}", file=sys.stderr)
        return
    sys.exit(f"error: missing machine source {what} (see SOURCES.md; --allow-missing to skip)")


def read(path: str) -> str:
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="replace")


def row(text: str, source: str, category: str) -> dict:
    return {"text": text, "label": "benign", "source": source, "category": category}


def chunk_lines(text: str, limit: int = MAX_LEN, max_chunks: int | None = None) -> list[str]:
    """Split text at line boundaries into chunks of at most `limit` characters."""
    chunks, cur = [], ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:  # a single over-long line (minified code): hard cut
            if cur:
                chunks.append(cur)
                cur = ""
            chunks.append(line[:limit])
            line = line[limit:]
        if len(cur) + len(line) > limit:
            chunks.append(cur)
            cur = ""
        cur += line
    if cur:
        chunks.append(cur)
    chunks = [c.rstrip("\n") for c in chunks if len(c.strip()) >= MIN_LEN]
    return chunks[:max_chunks] if max_chunks else chunks


SECRET_RE = re.compile(
    r"PRIVATE KEY|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{20}|xox[abp]-[0-9A-Za-z-]{10}|sk-[A-Za-z0-9]{20}"
    r"|password\s*=\s*['\"][^'\"]{6,}"
)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
FAKE_DOMAINS = ("example.com", "example.org", "example.net", ".example", "users.noreply")


def clean_chunk(text: str) -> bool:
    """True if a machine-extracted chunk may be used: no secrets, no real e-mail addresses."""
    if SECRET_RE.search(text):
        return False
    for m in EMAIL_RE.finditer(text):
        if not any(d in m.group(0) for d in FAKE_DOMAINS):
            return False
    return True


# --------------------------------------------------------------------------
# Written rows: written/<category>.txt, records separated by lines "%%% meta"
# --------------------------------------------------------------------------

def parse_written(name: str) -> list[tuple[dict, str, int]]:
    path = os.path.join(WRITTEN, name)
    recs, meta, buf, start = [], None, [], 0
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for i, line in enumerate(lines, 1):
        if line.startswith("%%%"):
            if meta is not None:
                recs.append((meta, "\n".join(buf).strip("\n"), start))
            meta = dict(kv.split("=", 1) for kv in line[3:].split() if "=" in kv)
            buf, start = [], i
        elif meta is not None:
            buf.append(line)
    if meta is not None:
        recs.append((meta, "\n".join(buf).strip("\n"), start))
    return [(m, t, s) for m, t, s in recs if t.strip()]


def written_rows(category: str) -> list[dict]:
    out = []
    for meta, text, line in parse_written(f"{category}.txt"):
        bits = ", ".join(f"{k}={v}" for k, v in sorted(meta.items()))
        src = f"written for promptsieve: eval/benign/written/{category}.txt:{line}" + (f" ({bits})" if bits else "")
        out.append(row(expand(text), src, category))
    return out


# --------------------------------------------------------------------------
# chat_export: conversations written in a small script language, rendered in
# the export format of a messaging app (see SOURCES.md)
# --------------------------------------------------------------------------

L10N = {
    "media": {"en": "<Media omitted>", "de": "<Medien ausgeschlossen>", "fr": "<Médias omis>",
              "es": "<Multimedia omitido>", "pt": "<Mídia oculta>", "it": "<Media omessi>",
              "nl": "<Media weggelaten>", "tr": "<Medya dahil edilmedi>", "pl": "<Pominięto multimedia>"},
    "deleted": {"en": "This message was deleted", "de": "Diese Nachricht wurde gelöscht",
                "fr": "Ce message a été supprimé", "es": "Se eliminó este mensaje", "pt": "Mensagem apagada",
                "it": "Questo messaggio è stato eliminato", "nl": "Dit bericht is verwijderd",
                "tr": "Bu mesaj silindi", "pl": "Ta wiadomość została usunięta"},
    "deleted_self": {"en": "You deleted this message", "de": "Du hast diese Nachricht gelöscht",
                     "fr": "Vous avez supprimé ce message", "es": "Eliminaste este mensaje",
                     "pt": "Você apagou esta mensagem", "it": "Hai eliminato questo messaggio",
                     "nl": "Je hebt dit bericht verwijderd", "tr": "Bu mesajı sildiniz",
                     "pl": "Usunięto tę wiadomość"},
    "edited": {"en": "<This message was edited>", "de": "<Diese Nachricht wurde bearbeitet>",
               "fr": "<Ce message a été modifié>", "es": "<Se editó este mensaje.>",
               "pt": "<Mensagem editada>", "it": "<Questo messaggio è stato modificato>",
               "nl": "<Dit bericht is bewerkt>", "tr": "<Bu mesaj düzenlendi>", "pl": "<Edytowano tę wiadomość>"},
    "e2e": {"en": "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
            "de": "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie lesen oder anhören, nicht einmal WhatsApp. Tippe, um mehr zu erfahren.",
            "fr": "Les messages et les appels sont chiffrés de bout en bout. Aucun tiers, pas même WhatsApp, ne peut les lire ou les écouter. Appuyez pour en savoir plus.",
            "es": "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat, ni siquiera WhatsApp, puede leerlos ni escucharlos. Toca para obtener más información.",
            "pt": "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam somente entre você e os participantes desta conversa. Nem mesmo o WhatsApp pode ler ou ouvi-las. Toque para saber mais.",
            "it": "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa chat, nemmeno WhatsApp, può leggerli o ascoltarli. Tocca per saperne di più.",
            "nl": "Berichten en gesprekken worden end-to-end versleuteld. Niemand buiten deze chat, zelfs WhatsApp niet, kan ze lezen of beluisteren. Tik voor meer informatie."},
    "ios_omitted": {"en": "{kind} omitted", "de": "{kind} weggelassen", "fr": "{kind} omis",
                    "es": "{kind} omitido", "pt": "{kind} ocultado", "it": "{kind} omesso", "nl": "{kind} weggelaten"},
    "ios_kind": {"en": {"image": "image", "video": "video", "audio": "audio", "sticker": "sticker", "gif": "GIF"},
                 "de": {"image": "Bild", "video": "Video", "audio": "Audio", "sticker": "Sticker", "gif": "GIF"},
                 "fr": {"image": "image", "video": "vidéo", "audio": "audio", "sticker": "autocollant", "gif": "GIF"},
                 "es": {"image": "imagen", "video": "video", "audio": "audio", "sticker": "sticker", "gif": "GIF"},
                 "pt": {"image": "imagem", "video": "vídeo", "audio": "áudio", "sticker": "figurinha", "gif": "GIF"},
                 "it": {"image": "immagine", "video": "video", "audio": "audio", "sticker": "sticker", "gif": "GIF"},
                 "nl": {"image": "afbeelding", "video": "video", "audio": "audio", "sticker": "sticker", "gif": "GIF"}},
}


def l10n(key: str, lang: str) -> str:
    table = L10N[key]
    return table.get(lang, table["en"])


MSG_RE = re.compile(r"^([^:\n]{1,40}?): (.*)$")


def parse_script(text: str):
    """Conversation script -> list of events (kind, name, text, attrs)."""
    events = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if line.startswith("  ") and events:
            events[-1]["text"] += "\n" + line[2:]
            continue
        if line.startswith("! "):
            events.append({"kind": "system", "name": "", "text": line[2:], "attrs": {}})
            continue
        if line.startswith("+ "):  # "+ N" = gap of N minutes before next message
            events.append({"kind": "gap", "name": "", "text": line[2:], "attrs": {}})
            continue
        m = MSG_RE.match(line)
        if not m:
            raise ValueError(f"bad chat line: {line!r}")
        name, body = m.group(1), m.group(2)
        attrs = {}
        while True:
            mm = re.match(r"^<(fwd|quote|edited)(?::([^>]*))?>\s*", body)
            if not mm:
                break
            attrs[mm.group(1)] = mm.group(2) or ""
            body = body[mm.end():]
        kind = "msg"
        mm = re.match(r"^<(media|image|video|audio|sticker|gif|deleted|deleted_self|doc|location|contact|call)(?::([^>]*))?>$", body)
        if mm:
            kind, attrs["arg"] = mm.group(1), mm.group(2) or ""
            body = ""
        events.append({"kind": kind, "name": name, "text": body, "attrs": attrs})
    return events


def timeline(events, start: datetime, rng: random.Random):
    t = start
    out = []
    for ev in events:
        if ev["kind"] == "gap":
            t += timedelta(minutes=int(ev["text"]))
            continue
        t += timedelta(seconds=rng.choice([4, 9, 15, 22, 38, 51, 75, 110, 160, 240, 420]) + rng.randrange(0, 30))
        out.append((t, ev))
    return out


def fmt_wa_android(t: datetime, lang: str) -> str:
    if lang == "en":
        h = t.hour % 12 or 12
        return f"{t.month}/{t.day}/{t:%y}, {h}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"
    if lang == "en_GB":
        return f"{t:%d/%m/%Y}, {t:%H:%M}"
    if lang == "de":
        return f"{t:%d.%m.%y}, {t:%H:%M}"
    if lang == "fr":
        return f"{t:%d/%m/%Y} à {t:%H:%M}"
    if lang == "es":
        return f"{t.day}/{t.month}/{t:%y}, {t:%H:%M}"
    if lang == "pt":
        return f"{t:%d/%m/%Y} {t:%H:%M}"
    if lang == "it":
        return f"{t:%d/%m/%y}, {t:%H:%M}"
    if lang == "nl":
        return f"{t:%d-%m-%Y} {t:%H:%M}"
    return f"{t:%d.%m.%Y}, {t:%H:%M}"


def fmt_wa_ios(t: datetime, lang: str) -> str:
    if lang == "en":
        h = t.hour % 12 or 12
        return f"[{t.month}/{t.day}/{t:%y}, {h}:{t:%M:%S}{NNBSP}{'AM' if t.hour < 12 else 'PM'}]"
    if lang == "de":
        return f"[{t:%d.%m.%y}, {t:%H:%M:%S}]"
    return f"[{t:%d/%m/%Y}, {t:%H:%M:%S}]"


def lang_base(lang: str) -> str:
    return lang.split("_")[0]


def render_whatsapp_android(meta, tl, rng):
    lang = meta.get("lang", "en")
    lb = lang_base(lang)
    lines = []
    if meta.get("header", "yes") == "yes" and tl:
        lines.append(f"{fmt_wa_android(tl[0][0] - timedelta(days=40), lang)} - {l10n('e2e', lb)}")
    for t, ev in tl:
        ts = fmt_wa_android(t, lang)
        if ev["kind"] == "system":
            lines.append(f"{ts} - {ev['text']}")
            continue
        k = ev["kind"]
        if k in ("media", "image", "video", "audio", "sticker", "gif"):
            body = l10n("media", lb)
        elif k == "deleted":
            body = l10n("deleted", lb)
        elif k == "deleted_self":
            body = l10n("deleted_self", lb)
        elif k == "doc":
            name = ev["attrs"]["arg"] or f"DOC-{t:%Y%m%d}-WA{rng.randrange(1, 60):04d}.pdf"
            body = f"{LRM}{name} (file attached)"
        elif k == "location":
            body = f"location: https://maps.google.com/?q={ev['attrs']['arg']}"
        elif k == "contact":
            body = f"{LRM}{ev['attrs']['arg']}.vcf (file attached)"
        elif k == "call":
            body = l10n("media", lb)
        else:
            body = ev["text"]
            if "edited" in ev["attrs"]:
                body += " " + l10n("edited", lb)
        lines.append(f"{ts} - {ev['name']}: {body}")
    return "\n".join(lines)


def render_whatsapp_ios(meta, tl, rng):
    lang = meta.get("lang", "en")
    lb = lang_base(lang)
    lines = []
    title = meta.get("title")
    counter = rng.randrange(3, 40)
    if tl:
        first = tl[0][0] - timedelta(days=12)
        if title:
            lines.append(f"{fmt_wa_ios(first, lang)} {title.replace('_', ' ')}: {LRM}{l10n('e2e', lb)}")
    for t, ev in tl:
        ts = fmt_wa_ios(t, lang)
        k = ev["kind"]
        who = ev["name"]
        if k == "system":
            lines.append(f"{LRM}{ts} {title.replace('_', ' ') if title else who}: {LRM}{ev['text']}")
            continue
        if k in ("image", "video", "audio", "sticker", "gif", "media", "call"):
            kk = "image" if k in ("media", "call") else k
            if meta.get("attached") == "yes" and kk in ("image", "video", "audio"):
                counter += 1
                ext = {"image": "PHOTO", "video": "VIDEO", "audio": "AUDIO"}[kk]
                suffix = {"image": "jpg", "video": "mp4", "audio": "opus"}[kk]
                lines.append(f"{LRM}{ts} {who}: {LRM}<attached: {counter:08d}-{ext}-{t:%Y-%m-%d-%H-%M-%S}.{suffix}>")
            else:
                kind = L10N["ios_kind"].get(lb, L10N["ios_kind"]["en"])[kk]
                lines.append(f"{LRM}{ts} {who}: {LRM}" + l10n("ios_omitted", lb).format(kind=kind))
        elif k in ("deleted", "deleted_self"):
            lines.append(f"{LRM}{ts} {who}: {LRM}" + l10n(k, lb) + ".")
        elif k == "doc":
            name = ev["attrs"]["arg"] or "Document.pdf"
            counter += 1
            lines.append(f"{LRM}{ts} {who}: {name} {LRM}• {LRM}{rng.randrange(1, 9)} pages {LRM}<attached: {counter:08d}-{name}>")
        elif k == "location":
            lines.append(f"{ts} {who}: {LRM}Location: https://maps.google.com/?q={ev['attrs']['arg']}")
        elif k == "contact":
            lines.append(f"{LRM}{ts} {who}: {LRM}Contact card omitted")
        else:
            body = ev["text"]
            if "edited" in ev["attrs"]:
                body += f" {LRM}" + l10n("edited", lb)
            lines.append(f"{ts} {who}: {body}")
    return "\n".join(lines)


def render_telegram_json(meta, tl, rng):
    base_id = rng.randrange(1000, 90000)
    uid = {}
    msgs = []
    ids_by_name = {}
    for i, (t, ev) in enumerate(tl):
        mid = base_id + i
        if ev["kind"] == "system":
            msgs.append({"id": mid, "type": "service", "date": t.strftime("%Y-%m-%dT%H:%M:%S"),
                         "date_unixtime": str(int(t.replace(tzinfo=timezone.utc).timestamp())),
                         "actor": ev["name"] or meta.get("title", "Group").replace("_", " "),
                         "actor_id": "user" + str(700000000 + rng.randrange(10**8)),
                         "action": "pin_message", "message_id": mid - 1, "text": "", "text_entities": []})
            continue
        name = ev["name"]
        if name not in uid:
            uid[name] = "user" + str(rng.randrange(10**8, 10**10))
        m = {"id": mid, "type": "message", "date": t.strftime("%Y-%m-%dT%H:%M:%S"),
             "date_unixtime": str(int(t.replace(tzinfo=timezone.utc).timestamp())),
             "from": name, "from_id": uid[name]}
        if "edited" in ev["attrs"]:
            e = t + timedelta(seconds=rng.randrange(20, 300))
            m["edited"] = e.strftime("%Y-%m-%dT%H:%M:%S")
            m["edited_unixtime"] = str(int(e.replace(tzinfo=timezone.utc).timestamp()))
        if "fwd" in ev["attrs"]:
            m["forwarded_from"] = ev["attrs"]["fwd"] or "Unknown"
        if "quote" in ev["attrs"]:
            target = ev["attrs"]["quote"].split("|")[0]
            if target in ids_by_name:
                m["reply_to_message_id"] = ids_by_name[target]
        k = ev["kind"]
        text = ev["text"]
        if k in ("image", "media"):
            m["photo"] = f"photos/photo_{rng.randrange(1, 400)}@{t:%d-%m-%Y_%H-%M-%S}.jpg"
            m["width"], m["height"] = rng.choice([(1280, 960), (960, 1280), (1280, 720)])
        elif k in ("video", "gif"):
            m["file"] = f"video_files/{'IMG_' + str(rng.randrange(1000, 9999))}.MP4"
            m["media_type"] = "animation" if k == "gif" else "video_file"
            m["mime_type"] = "video/mp4"
            m["duration_seconds"] = rng.randrange(3, 95)
        elif k == "audio":
            m["file"] = f"voice_messages/audio_{rng.randrange(1, 300)}@{t:%d-%m-%Y_%H-%M-%S}.ogg"
            m["media_type"] = "voice_message"
            m["mime_type"] = "audio/ogg"
            m["duration_seconds"] = rng.randrange(4, 180)
        elif k == "sticker":
            m["file"] = "(File not included. Change data exporting settings to download.)"
            m["media_type"] = "sticker"
            m["sticker_emoji"] = MACROS["thumbs"]
        elif k == "doc":
            m["file"] = f"files/{ev['attrs']['arg'] or 'document.pdf'}"
            m["mime_type"] = "application/pdf"
        elif k in ("deleted", "deleted_self"):
            text = ""
        m["text"] = text
        m["text_entities"] = [{"type": "plain", "text": text}] if text else []
        ids_by_name[name] = mid
        msgs.append(m)
    doc = {"name": meta.get("title", "Chat").replace("_", " "), "type": meta.get("ttype", "private_group"),
           "id": rng.randrange(10**9, 10**10), "messages": msgs}
    return json.dumps(doc, ensure_ascii=False, indent=1)


def render_telegram_copy(meta, tl, rng):
    out = []
    for t, ev in tl:
        if ev["kind"] == "system":
            continue
        head = f"{ev['name']}, [{t:%d.%m.%Y %H:%M}]"
        parts = [head]
        if "fwd" in ev["attrs"]:
            parts.append(f"[Forwarded from {ev['attrs']['fwd']}]")
        if "quote" in ev["attrs"]:
            parts.append(f"[In reply to {ev['attrs']['quote'].split('|')[0]}]")
        k = ev["kind"]
        if k in ("image", "media"):
            parts.append("[Photo]")
        elif k in ("video", "gif"):
            parts.append("[Video]" if k == "video" else "[GIF]")
        elif k == "audio":
            parts.append("[Voice message]")
        elif k == "sticker":
            parts.append(f"[Sticker {MACROS['thumbs']}]")
        elif k == "doc":
            parts.append(f"[File: {ev['attrs']['arg']}]")
        if ev["text"]:
            parts.append(ev["text"] + (" (edited)" if "edited" in ev["attrs"] else ""))
        out.append("\n".join(parts))
    return "\n\n".join(out)


def render_slack_json(meta, tl, rng):
    users = {}
    msgs = []
    for t, ev in tl:
        name = ev["name"]
        if name not in users:
            users[name] = "U0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
        ts = f"{int(t.replace(tzinfo=timezone.utc).timestamp())}.{rng.randrange(0, 999999):06d}"
        if ev["kind"] == "system":
            msgs.append({"type": "message", "subtype": "channel_join", "ts": ts, "user": users[name],
                         "text": f"<@{users[name]}> {ev['text']}"})
            continue
        m = {"type": "message", "text": ev["text"], "user": users[name], "ts": ts,
             "user_profile": {"real_name": name, "display_name": name.split(" ")[0].lower()}}
        if ev["kind"] in ("image", "media", "doc", "video"):
            fname = ev["attrs"].get("arg") or f"image_{rng.randrange(100, 999)}.png"
            m["files"] = [{"id": "F0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(9)),
                           "name": fname, "title": fname, "mimetype": "application/pdf" if fname.endswith(".pdf") else "image/png",
                           "mode": "hidden_by_limit" if rng.random() < 0.3 else "hosted"}]
            m["upload"] = True
        if ev["kind"] in ("deleted", "deleted_self"):
            m["subtype"] = "tombstone"
            m["text"] = "This message was deleted."
        if "edited" in ev["attrs"]:
            m["edited"] = {"user": users[name], "ts": ts[:-6] + f"{rng.randrange(0, 999999):06d}"}
        if "quote" in ev["attrs"]:
            q = ev["attrs"]["quote"].split("|", 1)
            if len(q) == 2:
                m["text"] = f"&gt; {q[1]}\n{m['text']}"
        if rng.random() < 0.25 and ev["text"]:
            m["reactions"] = [{"name": rng.choice(["+1", "eyes", "white_check_mark", "joy", "pray"]),
                               "users": sorted(set(users.values()))[:2], "count": min(2, len(users))}]
        msgs.append(m)
    return json.dumps(msgs, ensure_ascii=False, indent=4)


def render_slack_copy(meta, tl, rng):
    out = []
    last = None
    for t, ev in tl:
        if ev["kind"] == "system":
            out.append(f"{ev['name']}  {t:%-I:%M %p}\n{ev['text']}")
            last = None
            continue
        body = ev["text"]
        if ev["kind"] in ("image", "media", "doc", "video"):
            body = (body + "\n" if body else "") + (ev["attrs"].get("arg") or "image.png")
        if ev["kind"] in ("deleted", "deleted_self"):
            body = "This message was deleted."
        if "edited" in ev["attrs"]:
            body += " (edited)"
        if "quote" in ev["attrs"]:
            q = ev["attrs"]["quote"].split("|", 1)
            if len(q) == 2:
                body = f"> {q[1]}\n{body}"
        if last == ev["name"]:
            out[-1] += f"\n{body}"
        else:
            out.append(f"{ev['name']}  {t:%-I:%M %p}\n{body}")
        last = ev["name"]
    return "\n\n".join(out)


def render_discord(meta, tl, rng):
    guild = meta.get("title", "Server").replace("_", " ")
    chan = meta.get("channel", "general")
    lines = ["=" * 62, f"Guild: {guild}", f"Channel: {meta.get('cat', 'Text Channels')} / {chan}", "=" * 62, ""]
    for t, ev in tl:
        h = t.hour % 12 or 12
        ts = f"[{t.month}/{t.day}/{t.year} {h}:{t:%M} {'AM' if t.hour < 12 else 'PM'}]"
        if ev["kind"] == "system":
            lines.append(f"{ts} {ev['name']}\n{ev['text']}\n")
            continue
        body = ev["text"]
        if "quote" in ev["attrs"]:
            q = ev["attrs"]["quote"].split("|", 1)
            if len(q) == 2:
                body = f"> {q[1]}\n{body}"
        if ev["kind"] in ("image", "media", "gif", "video", "doc"):
            fname = ev["attrs"].get("arg") or f"IMG_{rng.randrange(1000, 9999)}.png"
            att = f"https://cdn.discordapp.example/attachments/{rng.randrange(10**17, 10**18)}/{rng.randrange(10**17, 10**18)}/{fname}"
            body = (body + "\n" if body else "") + "{Attachments}\n" + att
        if ev["kind"] == "sticker":
            body = "{Stickers}\nwave"
        if ev["kind"] in ("deleted", "deleted_self"):
            continue
        if "edited" in ev["attrs"]:
            body += " (edited)"
        lines.append(f"{ts} {ev['name']}\n{body}\n")
    lines.append("=" * 62)
    lines.append(f"Exported {len([1 for _, e in tl if e['kind'] != 'system'])} message(s)")
    lines.append("=" * 62)
    return "\n".join(lines)


def render_discord_copy(meta, tl, rng):
    out = []
    for t, ev in tl:
        if ev["kind"] in ("system", "deleted", "deleted_self"):
            continue
        body = ev["text"]
        if ev["kind"] in ("image", "media", "gif", "video", "doc"):
            body = (body + "\n" if body else "") + (ev["attrs"].get("arg") or "image.png")
        if "quote" in ev["attrs"]:
            q = ev["attrs"]["quote"].split("|", 1)
            body = (f"{q[0]}\n{q[1]}\n" if len(q) == 2 else "") + body
        if "edited" in ev["attrs"]:
            body += " (edited)"
        h = t.hour % 12 or 12
        out.append(f"{ev['name']} — {t:%m/%d/%Y} {h}:{t:%M} {'AM' if t.hour < 12 else 'PM'}\n{body}")
    return "\n".join(out)


def render_signal(meta, tl, rng):
    out = []
    for t, ev in tl:
        ts = f"[{t:%Y-%m-%d %H:%M}]"
        if ev["kind"] == "system":
            out.append(f"{ts} {ev['text']}")
            continue
        body = ev["text"]
        if "quote" in ev["attrs"]:
            q = ev["attrs"]["quote"].split("|", 1)
            if len(q) == 2:
                body = f"\n> {q[0]}:\n> {q[1]}\n\n{body}"
        k = ev["kind"]
        if k in ("image", "media"):
            body = (body + " " if body else "") + f"![image.jpeg](./media/{t:%Y-%m-%d_%H-%M-%S}.jpeg)"
        elif k in ("video", "gif"):
            body = f"![video.mp4](./media/{t:%Y-%m-%d_%H-%M-%S}.mp4)"
        elif k == "audio":
            body = f"[voice-message.aac](./media/{t:%Y-%m-%d_%H-%M-%S}.aac)"
        elif k == "doc":
            body = f"[{ev['attrs']['arg']}](./media/{ev['attrs']['arg']})"
        elif k in ("deleted", "deleted_self"):
            body = "_This message was deleted._"
        if "edited" in ev["attrs"]:
            body += " _(edited)_"
        out.append(f"{ts} {ev['name']}: {body}")
    return "\n".join(out)


def render_imessage(meta, tl, rng):
    out = []
    me = meta.get("me", "")
    for t, ev in tl:
        h = t.hour % 12 or 12
        ts = f"{t:%b} {t.day}, {t.year} {h:2d}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'}"
        if ev["kind"] == "system":
            out.append(f"{ts}\n{ev['text']}\n")
            continue
        name = "Me" if ev["name"] == me else ev["name"]
        extra = ""
        if name != "Me" and rng.random() < 0.3:
            extra = f" (Read by you after {rng.randrange(1, 50)} minutes)"
        body = ev["text"]
        k = ev["kind"]
        if k in ("image", "media"):
            body = f"/Users/fake/Library/Messages/Attachments/{rng.randrange(16):02x}/{rng.randrange(16):02x}/IMG_{rng.randrange(1000, 9999)}.HEIC"
        elif k in ("video", "gif"):
            body = f"/Users/fake/Library/Messages/Attachments/{rng.randrange(16):02x}/{rng.randrange(16):02x}/IMG_{rng.randrange(1000, 9999)}.MOV"
        elif k == "audio":
            body = "Audio Message.caf"
        elif k == "doc":
            body = ev["attrs"]["arg"]
        elif k in ("deleted", "deleted_self"):
            body = "This message was unsent."
        if "edited" in ev["attrs"]:
            body = f"Edited to \"{body}\""
        if "quote" in ev["attrs"]:
            q = ev["attrs"]["quote"].split("|", 1)
            if len(q) == 2:
                body = f"This message responded to an earlier message.\n{body}"
        out.append(f"{ts}{extra}\n{name}\n{body}\n")
    return "\n".join(out).rstrip("\n")


RENDERERS = {
    "whatsapp_android": render_whatsapp_android, "whatsapp_ios": render_whatsapp_ios,
    "telegram_json": render_telegram_json, "telegram_copy": render_telegram_copy,
    "slack_json": render_slack_json, "slack_copy": render_slack_copy,
    "discord": render_discord, "discord_copy": render_discord_copy,
    "signal": render_signal, "imessage": render_imessage,
}


def build_chat() -> list[dict]:
    rows = []
    for idx, (meta, text, line) in enumerate(parse_written("chat_export.txt")):
        plat = meta["platform"]
        rng = random.Random(f"chat:{line}")
        date = meta.get("date", "2023-05-0%d" % (1 + idx % 9))
        start = datetime.strptime(date + " " + meta.get("time", "19:%02d" % (idx % 60)), "%Y-%m-%d %H:%M")
        events = parse_script(expand(text))
        tl = timeline(events, start, rng)
        rendered = RENDERERS[plat](meta, tl, random.Random(f"render:{line}"))
        while len(rendered) > MAX_LEN and len(tl) > 3:  # long JSON exports: keep the first messages
            tl = tl[:-1]
            rendered = RENDERERS[plat](meta, tl, random.Random(f"render:{line}"))
        bits = ", ".join(f"{k}={v}" for k, v in sorted(meta.items()))
        src = f"written for promptsieve: eval/benign/written/chat_export.txt:{line} rendered as {plat} by build.py ({bits})"
        rows.append(row(rendered, src, "chat_export"))
    return rows


# --------------------------------------------------------------------------
# rtl_marks: translated UI/messages from locale catalogues, placeholders
# filled, direction marks inserted the way editors/apps insert them
# --------------------------------------------------------------------------

MO_DOMAINS = ["apt", "diffutils", "glib20", "grep", "gtk30", "libapt-pkg6.0", "make", "PackageKit",
              "sed", "software-properties", "wget", "appstream", "shadow", "Linux-PAM", "gdk-pixbuf",
              "avahi", "xdg-user-dirs", "shared-mime-info", "python-apt", "at-spi2-core", "gtk20"]
MO_PKG = {"apt": "apt", "diffutils": "diffutils", "glib20": "libglib2.0-data", "grep": "grep",
          "gtk30": "libgtk-3-common", "gtk20": "libgtk2.0-common", "libapt-pkg6.0": "libapt-pkg6.0",
          "make": "make", "PackageKit": "packagekit", "sed": "sed",
          "software-properties": "software-properties-common", "wget": "wget", "appstream": "appstream",
          "shadow": "login", "Linux-PAM": "libpam-runtime", "gdk-pixbuf": "libgdk-pixbuf2.0-common",
          "avahi": "libavahi-common-data", "xdg-user-dirs": "xdg-user-dirs",
          "shared-mime-info": "shared-mime-info", "python-apt": "python-apt-common", "at-spi2-core": "at-spi2-common"}
RTL_CH = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
FMT_RE = re.compile(r"%(?:\d+\$)?[-#0 +']*\d*(?:\.\d+)?(?:hh|h|ll|l|L|z|j|t|I64)?[sdiufFgGxXcpoe]|%%")
PLACE_LAT = ["report_2024-03.pdf", "/home/user/Documents/notes.txt", "nginx.service", "libgtk-3.so.0",
             "https://example.com/docs/install", "org.gnome.Settings", "Wi-Fi", "GitHub", "Firefox",
             "ubuntu-22.04.iso", "config.yaml", "user@example.com", "main.rs", "v2.4.1", "UTF-8",
             "C:\\Users\\Public\\data.csv", "http://deb.example.org/debian", "python3-requests", "USB-C",
             "index.html", "Bluetooth", "docker-compose.yml", "README.md", "fe80::1", "192.0.2.14"]
PLACE_NUM = ["3", "12", "45", "128", "1024", "2024", "7", "99", "15.5", "4096", "0", "65535", "250"]
URLS = ["https://example.com/help/rtl", "https://docs.example.org/ar/guide?v=2", "www.example.net/support",
        "https://git.example.com/team/app/-/issues/482", "http://192.0.2.10:8080/status"]


def load_mo(lang: str):
    out = []
    for dom in sorted(MO_DOMAINS):
        path = f"/usr/share/locale/{lang}/LC_MESSAGES/{dom}.mo"
        if not os.path.exists(path):
            continue
        with open(path, "rb") as fh:
            cat = gettext.GNUTranslations(fh)._catalog
        for k in sorted((k for k in cat if isinstance(k, str) and k), key=str):
            v = cat[k]
            if not isinstance(v, str):
                continue
            v = v.strip()
            letters = [c for c in v if c.isalpha()]
            if not (20 <= len(v) <= 600) or not letters:
                continue
            rtl = sum(1 for c in letters if RTL_CH.match(c))
            if rtl / len(letters) < 0.6:
                continue
            if "\t" in v or v.count("\n") > 6 or FINAL_FORM_START.search(v):
                continue
            out.append((dom, k, v, path))
    return out


def fill_formats(s: str, rng: random.Random, wrap, native_digits: str = "") -> str:
    def sub(m):
        spec = m.group(0)
        if spec == "%%":
            return "%"
        conv = spec[-1]
        if conv in "sc":
            val = rng.choice(PLACE_LAT)
        elif conv in "xXp":
            val = "0x%04x" % rng.randrange(65536)
        elif conv in "fFgGe":
            val = rng.choice(["0.5", "2.75", "98.6", "1.25"])
        else:
            val = rng.choice(PLACE_NUM)
            if native_digits and rng.random() < 0.4:  # Arabic-Indic / Persian digits, no wrap needed
                return to_arabic_indic(val, native_digits == "fa")
        return wrap(val)
    return FMT_RE.sub(sub, s)


LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/\\@+\-]*[A-Za-z0-9]|[A-Za-z0-9]")
DIGITS = re.compile(r"(?<![A-Za-z0-9_.:/\\-])\d+(?:[.,]\d+)?%?(?![A-Za-z0-9_.:/\\-]*[A-Za-z0-9_/\\])")
FINAL_FORM_START = re.compile(r"(?:^|\s)[\u05da\u05dd\u05df\u05e3\u05e5][\u05d0-\u05ea]")  # visual-order Hebrew


def mark_style(s: str, style: str, rng: random.Random) -> str:
    """Insert direction marks the way particular software does."""
    if style == "lrm_after_latin":  # Word/LibreOffice users, Android keyboards: LRM after an LTR run before punctuation
        return re.sub(r"([A-Za-z0-9)\]])([.,:;!?،؛؟)\]»])(?=\s|$)", lambda m: m.group(1) + LRM + m.group(2), s)
    if style == "rlm_after_latin":  # RLM after a trailing Latin word so the full stop stays on the RTL side
        s = re.sub(r"([A-Za-z0-9])([.!?:،؛؟])(?=\s|$)", lambda m: m.group(1) + m.group(2) + RLM, s)
        return s
    if style == "rlm_line_start":  # chat apps on Android prefix each RTL paragraph with RLM
        return "\n".join(RLM + ln if ln.strip() else ln for ln in s.split("\n"))
    if style == "alm_numbers":  # Arabic: ALM before numbers / percentages / minus signs
        return DIGITS.sub(lambda m: ALM + m.group(0), s)
    if style == "lrm_numbers":  # LRM on both sides of numbers (spreadsheet exports, Hebrew sites)
        return DIGITS.sub(lambda m: LRM + m.group(0) + LRM, s)
    if style == "lrm_around_latin":
        return re.sub(r"(?<![\w.:/\\-])[A-Za-z][A-Za-z0-9_.:/\\@+\-]*[A-Za-z0-9](?![\w])|(?<![\w])[A-Za-z](?![\w])", lambda m: LRM + m.group(0) + LRM, s)
    return s


WRAPS = {
    "fsi": lambda v: FSI + v + PDI,   # ICU / Intl.MessageFormat / Chromium l10n placeholders
    "lri": lambda v: LRI + v + PDI,   # Android BidiFormatter.unicodeWrap (LTR value) newer versions
    "lre": lambda v: LRE + v + PDF + LRM,  # older BidiFormatter / Java: LRE…PDF then a mark
    "lrm": lambda v: LRM + v + LRM,
    "none": lambda v: v,
}


def to_arabic_indic(s: str, persian: bool) -> str:
    base = 0x06F0 if persian else 0x0660
    return "".join(chr(base + ord(c) - 48) if "0" <= c <= "9" else c for c in s)


def build_rtl() -> list[dict]:
    rows = []
    langs = {"ar": 85, "he": 60, "fa": 60}
    styles = ["lrm_after_latin", "rlm_after_latin", "rlm_line_start", "lrm_numbers", "lrm_around_latin", "alm_numbers"]
    for lang, n in langs.items():
        msgs = load_mo(lang)
        if not msgs:
            missing(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo")
            continue
        rng = random.Random(f"rtl:{lang}")
        # pick messages: prefer ones with Latin content or format specifiers, then others
        with_lat = [m for m in msgs if re.search(r"[A-Za-z0-9%]", m[2])]
        without = [m for m in msgs if not re.search(r"[A-Za-z0-9%]", m[2])]
        rng.shuffle(with_lat)
        rng.shuffle(without)
        pool = with_lat[: n * 2] + without[: n]
        rng.shuffle(pool)
        pos = 0
        for i in range(n):
            k = rng.choice([1, 1, 2, 2, 3, 4])
            parts = pool[pos:pos + k]
            pos += k
            if not parts:
                break
            wrap_name = rng.choice(["fsi", "fsi", "lri", "lre", "lrm", "none"])
            style = rng.choice(styles if lang == "ar" else styles[:-1])
            texts = [mark_style(fill_formats(p[2], rng, WRAPS[wrap_name], lang if lang in ("ar", "fa") else ""), style, rng)
                     for p in parts]
            frame = rng.choice(["plain", "plain", "lines", "log", "bug_report", "numbered", "chat", "url"])
            if frame == "lines":
                body = "\n".join(texts)
            elif frame == "log":
                t0 = datetime(2024, 3, 1, 8, 0, 0) + timedelta(minutes=rng.randrange(0, 90000))
                body = "\n".join(f"{(t0 + timedelta(seconds=13 * j)):%Y-%m-%d %H:%M:%S} {rng.choice(['INFO', 'WARN', 'ERROR'])} {RLM}{tx}" for j, tx in enumerate(texts))
            elif frame == "bug_report":
                intro = {"ar": "عند تشغيل الأمر", "he": "כשאני מריץ את הפקודה", "fa": "وقتی دستور"}[lang]
                tail = {"ar": "تظهر الرسالة التالية:", "he": "מופיעה ההודעה הבאה:", "fa": "را اجرا می‌کنم این پیام ظاهر می‌شود:"}[lang]
                cmd = rng.choice(["sudo apt update", "make -j4", "grep -r TODO src/", "pkcon refresh", "wget -c https://example.com/file.iso", "sed -i 's/a/b/' conf.txt"])
                body = f"{intro} {LRM}{cmd}{LRM} {tail}\n" + "\n".join(f"> {RLE}{tx}{PDF}" if rng.random() < 0.35 else f"> {tx}" for tx in texts)
            elif frame == "numbered":
                nums = [str(j + 1) for j in range(len(texts))]
                if lang in ("ar", "fa") and rng.random() < 0.5:
                    nums = [to_arabic_indic(x, lang == "fa") for x in nums]
                body = "\n".join(f"{RLM}{nm}. {tx}" for nm, tx in zip(nums, texts))
            elif frame == "chat":
                who = rng.choice(["Sara", "Omid", "Noa", "Yusuf", "Dana", "Reza", "Layla"])
                body = "\n".join(f"[{9 + j}:{rng.randrange(10, 59)}] {who}: {RLM}{tx}" for j, tx in enumerate(texts))
            else:  # url / plain
                body = " ".join(texts)
                if frame == "url":
                    more = {"ar": "للمزيد من المعلومات راجع", "he": "למידע נוסף ראו", "fa": "برای اطلاعات بیشتر ببینید"}[lang]
                    body += f" {more} {LRM}{rng.choice(URLS)}{LRM}"
            if not any(c in body for c in (LRM, RLM, ALM, LRE, RLE, PDF, LRI, RLI, FSI, PDI)):
                body = RLM + body
            body = body[:MAX_LEN]
            if len(body) < MIN_LEN:
                continue
            doms = sorted({p[0] for p in parts})
            pkgs = sorted({MO_PKG[d] for d in doms})
            src = (f"machine: /usr/share/locale/{lang}/LC_MESSAGES/{{{','.join(d + '.mo' for d in doms)}}} "
                   f"(Debian packages {', '.join(pkgs)}); {len(parts)} msgstr, placeholders filled ({wrap_name} wrap), "
                   f"marks: {style}, frame: {frame}")
            rows.append(row(body, src, "rtl_marks"))
    rows += written_rows("rtl_marks")
    return rows


# --------------------------------------------------------------------------
# code_logs
# --------------------------------------------------------------------------

def files_under(root: str, exts: tuple[str, ...], limit: int | None = None) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(exts):
                out.append(os.path.join(dirpath, f))
    out.sort()
    return out[:limit] if limit else out


def pick_chunks(paths: list[str], n: int, seed: str, per_file: int = 1, min_len: int = 300) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    paths = sorted(paths)
    rng.shuffle(paths)
    out = []
    for p in paths:
        if len(out) >= n:
            break
        try:
            txt = read(p)
        except OSError:
            continue
        if "PRIVATE KEY" in txt or "\x00" in txt:
            continue
        chunks = [c for c in chunk_lines(txt) if len(c) >= min_len and clean_chunk(c)]
        if not chunks:
            continue
        idxs = sorted(rng.sample(range(len(chunks)), min(per_file, len(chunks))))
        for i in idxs:
            if len(out) < n:
                out.append((p, chunks[i]))
    return out


def crate_license(path: str) -> str:
    d = path
    while d and os.path.dirname(d) not in CARGO_SRC:
        d = os.path.dirname(d)
        if d == "/":
            return "unknown"
    toml = os.path.join(d, "Cargo.toml")
    if os.path.exists(toml):
        m = re.search(r'^license\s*=\s*"([^"]+)"', read(toml), re.M)
        if m:
            return m.group(1)
    return "unknown"


def npm_license(path: str) -> str:
    d = os.path.dirname(path)
    while d.startswith("/usr/lib/node_modules") or "node_modules" in d:
        pj = os.path.join(d, "package.json")
        if os.path.exists(pj):
            try:
                lic = json.loads(read(pj)).get("license")
            except ValueError:
                lic = None
            if lic:
                return lic if isinstance(lic, str) else json.dumps(lic)
        d = os.path.dirname(d)
    return "unknown"


def xxd(data: bytes, start: int = 0) -> str:
    lines = []
    for off in range(0, len(data), 16):
        b = data[off:off + 16]
        hx = " ".join(b[i:i + 2].hex() for i in range(0, len(b), 2))
        asc = "".join(chr(c) if 32 <= c < 127 else "." for c in b)
        lines.append(f"{start + off:08x}: {hx:<39}  {asc}")
    return "\n".join(lines)


def grep_color(path: str, label: str, pattern: str, max_lines: int = 25) -> str:
    rx = re.compile(pattern)
    out = []
    for n, line in enumerate(read(path).splitlines(), 1):
        if rx.search(line):
            colored = rx.sub(lambda m: f"\x1b[01;31m\x1b[K{m.group(0)}\x1b[m\x1b[K", line)
            out.append(f"\x1b[35m\x1b[K{label}\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K\x1b[32m\x1b[K{n}\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K{colored}")
            if len(out) >= max_lines:
                break
    return "\n".join(out)


LS_COLORS = {"dir": "01;34", "exe": "01;32", "link": "01;36", "arch": "01;31", "img": "01;35"}


def ls_color(path: str) -> str:
    out = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.islink(full):
            c = LS_COLORS["link"]
        elif os.path.isdir(full):
            c = LS_COLORS["dir"]
        elif name.endswith((".gz", ".xz", ".zip", ".tar", ".deb", ".zst")):
            c = LS_COLORS["arch"]
        elif name.endswith((".png", ".svg", ".jpg", ".gif")):
            c = LS_COLORS["img"]
        elif os.access(full, os.X_OK):
            c = LS_COLORS["exe"]
        else:
            c = None
        out.append(f"\x1b[0m\x1b[{c}m{name}\x1b[0m" if c else name)
    return "\n".join(out)


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", REPO, *args], check=True, capture_output=True,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PAGER": "cat",
                                   "LC_ALL": "C", "TZ": "UTC", "HOME": "/nonexistent"}).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.CalledProcessError):
        missing(f"git history of {REPO} at {GIT_COMMIT}")
        return ""


def fake_ssh_key(rng: random.Random, kind: str) -> str:
    def s(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b
    if kind == "ssh-ed25519":
        blob = s(b"ssh-ed25519") + s(bytes(rng.randrange(256) for _ in range(32)))
    elif kind == "ecdsa-sha2-nistp256":
        blob = s(b"ecdsa-sha2-nistp256") + s(b"nistp256") + s(b"\x04" + bytes(rng.randrange(256) for _ in range(64)))
    else:
        n = bytes([0x00, 0xc0 | rng.randrange(64)]) + bytes(rng.randrange(256) for _ in range(383))
        blob = s(b"ssh-rsa") + s(b"\x01\x00\x01") + s(n)
    return f"{kind} {base64.b64encode(blob).decode()}"


def generated_logs(rng: random.Random) -> list[tuple[str, str]]:
    """Synthetic logs (documentation IP ranges, fake hosts). Returns (kind, text)."""
    out = []
    paths = ["/", "/index.html", "/api/v1/orders?page=2", "/static/js/app.3f9c2b1.js", "/static/css/main.css",
             "/favicon.ico", "/login", "/api/v1/users/me", "/healthz", "/robots.txt", "/products/espresso-grinder",
             "/search?q=blue+kettle&sort=price", "/wp-login.php", "/api/v1/cart/items/8812", "/images/hero@2x.webp",
             "/docs/getting-started#install", "/feed.xml", "/.well-known/acme-challenge/Xy3kQ9", "/metrics"]
    agents = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
              "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
              "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
              "curl/8.5.0", "kube-probe/1.29", "Googlebot/2.1 (+http://www.google.com/bot.html)",
              "python-requests/2.31.0", "Prometheus/2.51.1", "Go-http-client/1.1"]
    ips = [f"192.0.2.{i}" for i in range(1, 60)] + [f"198.51.100.{i}" for i in range(1, 60)] + [f"203.0.113.{i}" for i in range(1, 60)]
    for k in range(10):
        t = datetime(2024, 4, 2 + k, 6, 0, 0) + timedelta(minutes=rng.randrange(0, 900))
        lines = []
        for _ in range(rng.randrange(8, 18)):
            t += timedelta(seconds=rng.randrange(0, 9), milliseconds=rng.randrange(1000))
            p = rng.choice(paths)
            st = rng.choice([200] * 12 + [304, 301, 404, 404, 499, 500, 502])
            meth = "POST" if p in ("/login", "/api/v1/cart/items/8812") and rng.random() < 0.6 else "GET"
            ref = rng.choice(["-", "-", "https://shop.example.com/", "https://www.example.org/blog/post-7"])
            lines.append(f'{rng.choice(ips)} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "{meth} {p} HTTP/{rng.choice(["1.1", "2.0"])}" {st} {rng.randrange(0, 48000) if st != 304 else 0} "{ref}" "{rng.choice(agents)}"'
                         + (f" rt={rng.random() * 1.5:.3f}" if k % 3 == 0 else ""))
        out.append(("nginx access log (combined format)", "\n".join(lines)))
    units = [("nginx.service", "A high performance web server and a reverse proxy server"),
             ("postgresql@15-main.service", "PostgreSQL Cluster 15-main"),
             ("docker.service", "Docker Application Container Engine"),
             ("apt-daily.service", "Daily apt download activities"),
             ("certbot.timer", "Run certbot twice daily"), ("ssh.service", "OpenBSD Secure Shell server"),
             ("systemd-tmpfiles-clean.service", "Cleanup of Temporary Directories")]
    for k in range(8):
        t = datetime(2024, 5, 10 + k, 3, 0, 0) + timedelta(minutes=rng.randrange(0, 600))
        host = rng.choice(["web-01", "db-02", "build-box", "pi4", "staging-app"])
        lines = []
        for _ in range(rng.randrange(6, 14)):
            t += timedelta(seconds=rng.randrange(0, 40), microseconds=rng.randrange(10**6))
            u, d = rng.choice(units)
            pid = rng.randrange(200, 60000)
            msg = rng.choice([f"Starting {d}...", f"Started {d}.", f"{u}: Deactivated successfully.",
                              f"{u}: Consumed {rng.randrange(1, 900)}ms CPU time.",
                              f"{u}: Main process exited, code=exited, status=1/FAILURE",
                              f"{u}: Failed with result 'exit-code'.", f"Stopping {d}...",
                              f"{u}: Scheduled restart job, restart counter is at {rng.randrange(1, 6)}.",
                              "Reached target timers.target - Timer Units.",
                              f"kernel: EXT4-fs (sda1): mounted filesystem {rng.randrange(10**8):08x}-{rng.randrange(65536):04x} r/w with ordered data mode. Quota mode: none.",
                              f"kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:00:5e:00:53:{rng.randrange(256):02x} SRC=203.0.113.{rng.randrange(1, 250)} DST=192.0.2.10 LEN=44 TOS=0x00 PROTO=TCP SPT={rng.randrange(1024, 65535)} DPT={rng.choice([22, 23, 3389, 5432])} WINDOW=1024 SYN",
                              f"CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
                              f"sshd[{pid}]: Connection closed by 198.51.100.{rng.randrange(1, 250)} port {rng.randrange(1024, 65535)} [preauth]"])
            proc = "systemd[1]" if not msg.startswith(("kernel:", "CRON", "sshd")) else ""
            lines.append(f"{t:%b %d %H:%M:%S} {host} {proc + ': ' if proc else ''}{msg}")
        out.append(("systemd journal (journalctl short format)", "\n".join(lines)))
    k8s_reasons = [("Normal", "Scheduled", "Successfully assigned {ns}/{pod} to node-pool-a-{n}"),
                   ("Normal", "Pulling", 'Pulling image "registry.example.com/{app}:1.{n}.0"'),
                   ("Normal", "Pulled", 'Successfully pulled image "registry.example.com/{app}:1.{n}.0" in 2.{n}s (2.{n}s including waiting)'),
                   ("Normal", "Created", "Created container {app}"), ("Normal", "Started", "Started container {app}"),
                   ("Warning", "BackOff", "Back-off restarting failed container {app} in pod {pod}_{ns}({uid})"),
                   ("Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
                   ("Warning", "FailedScheduling", "0/6 nodes are available: 3 Insufficient memory, 3 node(s) had untolerated taint {{node-role.kubernetes.io/control-plane: }}. preemption: 0/6 nodes are available: 3 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling."),
                   ("Normal", "ScalingReplicaSet", "Scaled up replica set {app}-{rs} to {n}"),
                   ("Normal", "Killing", "Stopping container {app}"),
                   ("Warning", "OOMKilling", "Memory cgroup out of memory: Killed process 4{n}21 ({app})")]
    for k in range(6):
        ns = rng.choice(["default", "payments", "staging", "monitoring"])
        app = rng.choice(["checkout-api", "web-frontend", "worker", "redis", "grafana"])
        lines = ["LAST SEEN   TYPE      REASON              OBJECT                                MESSAGE"]
        for _ in range(rng.randrange(6, 12)):
            typ, reason, msg = rng.choice(k8s_reasons)
            rs = "%x" % rng.randrange(16**9, 16**10)
            pod = f"{app}-{rs}-{''.join(rng.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))}"
            uid = "%08x-%04x-4%03x-%04x-%012x" % (rng.randrange(16**8), rng.randrange(16**4), rng.randrange(16**3), rng.randrange(16**4), rng.randrange(16**12))
            m = msg.format(ns=ns, pod=pod, app=app, n=rng.randrange(1, 9), rs=rs, uid=uid)
            lines.append(f"{rng.choice(['12s', '45s', '2m3s', '5m', '14m', '38m', '2h']):<11} {typ:<9} {reason:<19} pod/{pod:<33} {m}")
        out.append(("kubectl get events output", "\n".join(lines)))
    traces = [
        "Traceback (most recent call last):\n  File \"/srv/app/venv/lib/python3.11/site-packages/flask/app.py\", line 1463, in wsgi_app\n    response = self.full_dispatch_request()\n  File \"/srv/app/venv/lib/python3.11/site-packages/flask/app.py\", line 872, in full_dispatch_request\n    rv = self.handle_user_exception(e)\n  File \"/srv/app/venv/lib/python3.11/site-packages/flask/app.py\", line 870, in full_dispatch_request\n    rv = self.dispatch_request()\n  File \"/srv/app/orders/views.py\", line 88, in create_order\n    total = sum(item[\"price\"] * item[\"qty\"] for item in payload[\"items\"])\n  File \"/srv/app/orders/views.py\", line 88, in <genexpr>\n    total = sum(item[\"price\"] * item[\"qty\"] for item in payload[\"items\"])\nKeyError: 'qty'",
        "thread 'main' panicked at src/config.rs:42:37:\ncalled `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: \"No such file or directory\" }\nstack backtrace:\n   0: rust_begin_unwind\n             at /rustc/82e1608dfa6e0b5569232559e3d385fea5a93112/library/std/src/panicking.rs:645:5\n   1: core::panicking::panic_fmt\n             at /rustc/82e1608dfa6e0b5569232559e3d385fea5a93112/library/core/src/panicking.rs:72:14\n   2: core::result::unwrap_failed\n             at /rustc/82e1608dfa6e0b5569232559e3d385fea5a93112/library/core/src/result.rs:1649:5\n   3: myapp::config::load\n             at ./src/config.rs:42:37\n   4: myapp::main\n             at ./src/main.rs:11:18\nnote: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
        "Exception in thread \"main\" java.lang.NullPointerException: Cannot invoke \"com.example.billing.Invoice.getLines()\" because \"invoice\" is null\n\tat com.example.billing.InvoiceService.total(InvoiceService.java:57)\n\tat com.example.billing.InvoiceController.show(InvoiceController.java:31)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)\n\tat org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:255)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)\n\t... 48 common frames omitted",
        "node:internal/process/promises:289\n            triggerUncaughtException(err, true /* fromPromise */);\n            ^\n\nError: connect ECONNREFUSED 127.0.0.1:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {\n  errno: -111,\n  code: 'ECONNREFUSED',\n  syscall: 'connect',\n  address: '127.0.0.1',\n  port: 5432\n}\n\nNode.js v20.12.2",
        "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.parseHeader({0xc000012345, 0x3, 0x3})\n\t/home/dev/src/tool/parse.go:27 +0x1d4\nmain.main()\n\t/home/dev/src/tool/main.go:14 +0x65\nexit status 2",
        "2024-06-03T11:42:17.331Z ERROR 1 --- [nio-8080-exec-7] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception\norg.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint \"users_email_key\"\n  Detail: Key (email)=(test.user@example.com) already exists.\n\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2713)\n\tat org.postgresql.core.v3.QueryExecutorImpl.processResults(QueryExecutorImpl.java:2401)",
        "Segmentation fault (core dumped)\n$ gdb -q ./imgconv core\nReading symbols from ./imgconv...\n[New LWP 31337]\nCore was generated by `./imgconv --resize 50% input.png'.\nProgram terminated with signal SIGSEGV, Segmentation fault.\n#0  0x000055d4c2a1b3f9 in scale_row (src=0x0, dst=0x7ffd1c2e8a40, w=1920) at scale.c:88\n88\t        dst[x] = (src[x*2] + src[x*2+1]) >> 1;\n(gdb) bt\n#0  0x000055d4c2a1b3f9 in scale_row (src=0x0, dst=0x7ffd1c2e8a40, w=1920) at scale.c:88\n#1  0x000055d4c2a1b5e2 in scale_image (img=0x55d4c3f0e2a0, factor=0.5) at scale.c:131\n#2  0x000055d4c2a1a1c7 in main (argc=4, argv=0x7ffd1c2e8c58) at main.c:42",
        "ERROR: Could not find a version that satisfies the requirement torch==2.9.9 (from versions: 2.2.0, 2.2.1, 2.2.2, 2.3.0, 2.3.1)\nERROR: No matching distribution found for torch==2.9.9\n\n[notice] A new release of pip is available: 23.3.1 -> 24.0\n[notice] To update, run: pip install --upgrade pip",
    ]
    for tr in traces:
        out.append(("stack trace / crash output", tr))
    # ANSI coloured cargo, pytest and git output
    crates = ["proc-macro2 v1.0.107", "unicode-ident v1.0.27", "quote v1.0.47", "syn v2.0.119", "memchr v2.8.3",
              "serde_core v1.0.229", "serde_derive v1.0.229", "serde v1.0.229", "aho-corasick v1.1.5",
              "regex-syntax v0.8.12", "regex-automata v0.4.19", "regex v1.13.2", "itoa v1.0.19", "serde_json v1.0.154"]
    b, g, r, y, c, z = "\x1b[1m", "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[0m"
    cargo = [f"{b}{g}   Compiling{z} {cr}" for cr in crates] + [
        f"{b}{g}   Compiling{z} demo v0.1.0 (/home/dev/demo)",
        f"{b}{y}warning{z}{b}: unused variable: `count`{z}",
        f" {b}\x1b[34m-->{z} src/main.rs:14:9",
        f"  {b}\x1b[34m|{z}",
        f"{b}\x1b[34m14{z} {b}\x1b[34m|{z}     let count = items.len();",
        f"  {b}\x1b[34m|{z}         {b}{y}^^^^^{z} {b}{y}help: if this is intentional, prefix it with an underscore: `_count`{z}",
        f"  {b}\x1b[34m|{z}",
        f"  {b}\x1b[34m= {z}{b}note{z}: `#[warn(unused_variables)]` on by default",
        "",
        f"{b}{y}warning{z}{b}:{z} `demo` (bin \"demo\") generated 1 warning",
        f"{b}{g}    Finished{z} `dev` profile [unoptimized + debuginfo] target(s) in 7.42s",
        f"{b}{g}     Running{z} `target/debug/demo`"]
    out.append(("ANSI-coloured cargo build output (generated)", "\n".join(cargo)))
    pytest = [f"{b}============================= test session starts =============================={z}",
              "platform linux -- Python 3.11.7, pytest-8.1.1, pluggy-1.4.0", "rootdir: /home/dev/project",
              f"collected 42 items{z}", "",
              f"tests/test_parser.py {g}.........{z}{g}                                          [ 21%]{z}",
              f"tests/test_render.py {g}........{z}{r}F{z}{g}..{z}{r}                                       [ 47%]{z}",
              f"tests/test_cli.py {g}......................{z}{r}                                   [100%]{z}", "",
              f"=================================== FAILURES ===================================",
              f"{r}{b}_____________________________ test_render_unicode ______________________________{z}", "",
              f"    def test_render_unicode():",
              f">       assert render(\"caf\\u00e9\") == \"café\"",
              f"{b}{r}E       AssertionError: assert 'cafe\\u0301' == 'café'{z}",
              f"{b}{r}E         - café{z}", f"{b}{r}E         + café{z}", "",
              f"{b}{r}tests/test_render.py{z}:31: AssertionError",
              f"{y}=========================== short test summary info ============================{z}",
              f"{r}FAILED{z} tests/test_render.py::{b}test_render_unicode{z} - AssertionError: assert 'cafe\\u0301' == 'café'",
              f"{r}========================= {b}{r}1 failed{z}, {g}41 passed{z}{r} in 1.83s{z}{r} ========================={z}"]
    out.append(("ANSI-coloured pytest output (generated)", "\n".join(pytest)))
    gitd = [f"{b}diff --git a/src/lib.rs b/src/lib.rs{z}", f"{b}index 3b18e51..a4c2f07 100644{z}",
            f"{b}--- a/src/lib.rs{z}", f"{b}+++ b/src/lib.rs{z}", f"{c}@@ -10,7 +10,9 @@{z} pub fn parse(input: &str) -> Result<Doc, Error> {{",
            "     let mut doc = Doc::default();", "     for line in input.lines() {",
            f"{r}-        doc.push(line.trim());{z}", f"{g}+        let line = line.trim_end();{z}",
            f"{g}+        if line.is_empty() {{ continue; }}{z}", f"{g}+        doc.push(line);{z}", "     }",
            "     Ok(doc)", " }"]
    out.append(("ANSI-coloured git diff output (generated)", "\n".join(gitd)))
    # UUID lists
    for k in range(3):
        uu = []
        for _ in range(rng.randrange(15, 40)):
            h = "%032x" % rng.getrandbits(128)
            h = h[:12] + "4" + h[13:16] + "89ab"[rng.randrange(4)] + h[17:]
            uu.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        if k == 1:
            uu = [f"{u},{rng.choice(['active', 'pending', 'archived'])},{datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(500000)):%Y-%m-%dT%H:%M:%SZ}" for u in uu]
            uu.insert(0, "id,status,created_at")
        out.append(("UUID list (generated, version 4 random)", "\n".join(uu)))
    # SSH public keys and known_hosts (fake key material)
    kh = []
    for _ in range(8):
        salt = base64.b64encode(bytes(rng.randrange(256) for _ in range(20))).decode()
        hsh = base64.b64encode(bytes(rng.randrange(256) for _ in range(20))).decode()
        kind = rng.choice(["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"])
        kh.append(f"|1|{salt}|{hsh} {fake_ssh_key(rng, kind)}")
    out.append(("SSH known_hosts, hashed (fake keys)", "\n".join(kh)[:MAX_LEN]))
    kh = []
    for host in ["git.example.com", "[bastion.example.net]:2222", "192.0.2.44", "build-01.example.org,198.51.100.7"]:
        kind = rng.choice(["ssh-ed25519", "ecdsa-sha2-nistp256"])
        kh.append(f"{host} {fake_ssh_key(rng, kind)}")
    out.append(("SSH known_hosts (fake keys)", "\n".join(kh)))
    ak = [f"{fake_ssh_key(rng, 'ssh-ed25519')} deploy@ci-runner", f"{fake_ssh_key(rng, 'ssh-rsa')} alex@laptop",
          f'no-port-forwarding,command="/usr/local/bin/backup-only" {fake_ssh_key(rng, "ssh-ed25519")} backup@nas']
    out.append(("~/.ssh/authorized_keys (fake keys)", "\n".join(ak)[:MAX_LEN]))
    # generated CSV
    hdr = "order_id,created_at,sku,qty,unit_price_eur,country,status"
    lines = [hdr]
    for i in range(40):
        t = datetime(2024, 2, 1) + timedelta(minutes=rng.randrange(0, 40000))
        lines.append(f"ORD-{100200 + i},{t:%Y-%m-%d %H:%M:%S},SKU-{rng.randrange(1000, 9999)},{rng.randrange(1, 6)},{rng.randrange(199, 9999) / 100:.2f},{rng.choice(['DE', 'FR', 'NL', 'ES', 'IT', 'PL'])},{rng.choice(['paid', 'shipped', 'refunded', 'pending'])}")
    out.append(("CSV export (generated; UTF-8 BOM as written by spreadsheet exports)", "\ufeff" + "\r\n".join(lines)))
    lines = ["timestamp;sensor;temp_c;humidity_pct;battery_v"]
    t = datetime(2024, 7, 1)
    for i in range(60):
        t += timedelta(minutes=5)
        lines.append(f"{t:%Y-%m-%dT%H:%M}; greenhouse-{1 + i % 3};{18 + rng.random() * 9:.1f};{55 + rng.random() * 30:.0f};{3.1 + rng.random() * 0.9:.2f}".replace("; ", ";"))
    out.append(("CSV sensor data (generated)", "\n".join(lines)))
    return out


def build_code() -> list[dict]:
    rows = []

    def add(text, src):
        text = text[:MAX_LEN]
        if len(text) >= MIN_LEN and clean_chunk(text):
            rows.append(row(text, src, "code_logs"))

    # Rust crates from the cargo registry (versions pinned by Cargo.lock)
    if not CARGO_SRC:
        missing("~/.cargo/registry/src")
    rust = []
    for base in CARGO_SRC:
        for crate in sorted(os.listdir(base)):
            if crate.startswith(("windows", "winapi", "linux-raw-sys", "r-efi")):
                continue  # huge generated bindings; over-represented otherwise
            rust += files_under(os.path.join(base, crate, "src"), (".rs",))
    for p, ch in pick_chunks(rust, 34, "rust"):
        rel = p.split("/registry/src/")[1].split("/", 1)[1]
        add(ch, f"machine: ~/.cargo/registry/src/*/{rel} (crates.io crate; licence {crate_license(p)})")
    # Cargo.toml manifests (TOML configs)
    tomls = sorted(glob.glob(os.path.join(HOME, ".cargo/registry/src/*/*/Cargo.toml")))
    for p, ch in pick_chunks(tomls, 6, "toml", min_len=200):
        rel = p.split("/registry/src/")[1].split("/", 1)[1]
        add(ch, f"machine: ~/.cargo/registry/src/*/{rel} (crate manifest; licence {crate_license(p)})")
    # Python standard library
    pyroot = "/usr/lib/python3.11"
    if not os.path.isdir(pyroot):
        missing(pyroot)
    py = [p for p in files_under(pyroot, (".py",)) if "/site-packages/" not in p and "/dist-packages/" not in p
          and "/test/" not in p and "/lib2to3/" not in p]
    for p, ch in pick_chunks(py, 26, "python"):
        add(ch, f"machine: {p} (CPython 3.11 standard library; PSF-2.0, /usr/share/doc/python3.11/copyright)")
    # JavaScript from the globally installed npm
    npmroot = "/usr/lib/node_modules/npm"
    if not os.path.isdir(npmroot):
        missing(npmroot)
    js = [p for p in files_under(npmroot, (".js", ".cjs", ".mjs")) if not p.endswith(".min.js")]
    for p, ch in pick_chunks(js, 20, "js"):
        add(ch, f"machine: {p} (npm package; licence {npm_license(p)})")
    mins = [p for p in files_under(npmroot, (".min.js",)) if "/esm/" in p]
    for p, ch in pick_chunks(mins, 14, "minjs", per_file=1, min_len=1000):
        add(ch, f"machine: {p} (minified bundle, chunk at line/char boundary; licence {npm_license(p)})")
    pj = [p for p in files_under(npmroot, ("package.json",))]
    for p, ch in pick_chunks(pj, 6, "pkgjson", min_len=200):
        add(ch, f"machine: {p} (npm manifest; licence {npm_license(p)})")
    # Go (git contrib)
    gofiles = files_under("/usr/share/doc/git/contrib", (".go",))
    if not gofiles:
        missing("/usr/share/doc/git/contrib/**/*.go")
    for p, ch in pick_chunks(gofiles, 4, "go", per_file=2):
        add(ch, f"machine: {p} (Debian package git, contrib; GPL-2 per /usr/share/doc/git/copyright; file header says Apache-2.0 by Google)" if "persistent-https" in p else f"machine: {p} (Debian package git; GPL-2)")
    # Shell scripts
    sh = files_under("/usr/share/doc/git/contrib", (".sh",)) + [p for p in ["/usr/bin/ldd", "/usr/sbin/update-ca-certificates", "/usr/bin/gettext.sh", "/usr/bin/zdiff", "/usr/bin/gunzip"] if os.path.exists(p)]
    lic = {"/usr/bin/ldd": "glibc, libc-bin; LGPL-2.1+/GPL-2+", "/usr/sbin/update-ca-certificates": "ca-certificates; GPL-2+",
           "/usr/bin/gettext.sh": "gettext-base; LGPL-2.1+", "/usr/bin/zdiff": "gzip; GPL-3+", "/usr/bin/gunzip": "gzip; GPL-3+"}
    for p, ch in pick_chunks(sh, 10, "sh", min_len=250):
        add(ch, f"machine: {p} (shell script; {lic.get(p, 'Debian package git, contrib; GPL-2')})")
    # C headers
    hdrs = files_under("/usr/include/linux", (".h",)) + [p for p in files_under("/usr/include", (".h",)) if os.path.dirname(p) == "/usr/include"]
    if not hdrs:
        missing("/usr/include")
    for p, ch in pick_chunks(hdrs, 18, "c"):
        l = "linux-libc-dev; GPL-2.0 WITH Linux-syscall-note" if "/linux/" in p else "libc6-dev (glibc); LGPL-2.1+"
        add(ch, f"machine: {p} (C header, {l})")
    # YAML schemas of the Google Cloud CLI
    ymls = files_under("/usr/lib/google-cloud-sdk/lib/googlecloudsdk/schemas", (".yaml",))
    if not ymls:
        missing("/usr/lib/google-cloud-sdk/lib/googlecloudsdk/schemas")
    for p, ch in pick_chunks(ymls, 10, "yaml", min_len=250):
        add(ch, f"machine: {p} (Debian package google-cloud-cli; Apache-2.0 per /usr/share/doc/google-cloud-cli/copyright)")
    surf = files_under("/usr/lib/google-cloud-sdk/lib/surface/compute", (".yaml",))
    for p, ch in pick_chunks(surf, 6, "yaml2", min_len=250):
        add(ch, f"machine: {p} (Debian package google-cloud-cli; Apache-2.0)")
    # CSV from distro-info-data
    for p in ["/usr/share/distro-info/debian.csv", "/usr/share/distro-info/ubuntu.csv"]:
        if not os.path.exists(p):
            missing(p)
            continue
        for ch in chunk_lines(read(p), 1500)[:2]:
            add(ch, f"machine: {p} (Debian package distro-info-data; ISC)")
    # PEM certificates (public CA roots)
    certs = sorted(glob.glob("/usr/share/ca-certificates/mozilla/*.crt"))
    if not certs:
        missing("/usr/share/ca-certificates/mozilla")
    rng = random.Random("certs")
    for p in sorted(rng.sample(certs, min(10, len(certs)))):
        txt = read(p)
        if "PRIVATE KEY" not in txt:
            add(txt.strip(), f"machine: {p} (Mozilla CA bundle via Debian package ca-certificates; MPL-2.0 data, package GPL-2+)")
    # dpkg / apt logs (lines before the cutoff only)
    for p in ["/var/log/dpkg.log", "/var/log/apt/history.log"]:
        if not os.path.exists(p):
            missing(p)
            continue
        txt = read(p)
        keep = []
        for block in txt.split("\n"):
            m = re.match(r"^(?:Start-Date: )?(\d{4}-\d{2}-\d{2})", block)
            if m and m.group(1) >= LOG_CUTOFF:
                break
            keep.append(block)
        chunks = chunk_lines("\n".join(keep), 2200)
        rng = random.Random("log:" + p)
        for i in sorted(rng.sample(range(len(chunks)), min(6 if "dpkg" in p else 3, len(chunks)))):
            add(chunks[i], f"machine: {p} (package manager log of this machine, lines before {LOG_CUTOFF}; machine-generated, no copyright)")
    # data: URLs (base64) from small images
    imgs = [p for p in ["/usr/share/gitweb/static/git-favicon.png", "/usr/share/gitweb/static/git-logo.png",
                        "/usr/share/doc/python3/_static/file.png", "/usr/share/doc/python3/_static/minus.png",
                        "/usr/share/doc/nodejs/api/assets/js-flavor-esm.svg"] if os.path.exists(p)]
    lic = {"gitweb": "Debian package gitweb/git; GPL-2", "python3": "Sphinx theme asset in python3 docs; BSD-2-Clause (Sphinx)",
           "nodejs": "Node.js docs asset; MIT"}
    for p in imgs:
        data = open(p, "rb").read()
        mime = "image/svg+xml" if p.endswith(".svg") else "image/png"
        b64 = base64.b64encode(data).decode()
        ctx = rng.choice(["css", "html", "md", "bare"])
        uri = f"data:{mime};base64,{b64}"
        text = {"css": f".icon-file {{\n  background-image: url(\"{uri}\");\n  background-repeat: no-repeat;\n}}",
                "html": f'<img alt="logo" width="72" height="27" src="{uri}">',
                "md": f"![icon]({uri})", "bare": uri}[ctx]
        add(text, f"machine: {p} encoded as base64 data: URL in {ctx} context ({[v for k, v in lic.items() if k in p][0]})")
    # hex dumps
    for p, off, n in [("/usr/share/gitweb/static/git-favicon.png", 0, 256), ("/usr/bin/xxd", 0, 192),
                      ("/usr/share/locale/he/LC_MESSAGES/grep.mo", 0, 224), ("/usr/share/doc/python3/_static/minus.png", 0, 90)]:
        if os.path.exists(p):
            data = open(p, "rb").read()[off:off + n]
            add(f"$ xxd -l {n} {p}\n" + xxd(data, off) if p.endswith(("xxd", ".mo")) else xxd(data, off),
                f"machine: xxd-format hex dump of {p} (first {n} bytes; {'xxd, GPL-2 / vim licence' if 'xxd' in p else 'see package licence in SOURCES.md'})")
    # source map (from the repository's own npm dev dependencies)
    for p in sorted(glob.glob(os.path.join(REPO, "bindings/wasm/node_modules/@speed-highlight/core/dist/node/*.d.ts.map")))[:3]:
        add(read(p), f"machine: {os.path.relpath(p, REPO)} (npm @speed-highlight/core; CC0-1.0)")
    # ANSI coloured grep and ls output on machine files
    for path, pat in [("/usr/include/linux/bpf.h", r"BPF_MAP_TYPE_\w+"), ("/usr/include/stdio.h", r"\bFILE\b"),
                      ("/usr/lib/python3.11/json/decoder.py", r"\bdef\b|\bclass\b")]:
        if os.path.exists(path):
            add("$ grep --color=always -n -E '...' " + os.path.basename(path) + "\n" + grep_color(path, os.path.basename(path), pat),
                f"machine: grep-style ANSI colour output (GREP_COLORS default) over {path} (see its licence above)")
    for d in ["/usr/share/doc/git/contrib", "/usr/lib/node_modules/npm", "/usr/share/gitweb/static"]:
        if os.path.isdir(d):
            add(f"$ ls --color=always {d}\n" + ls_color(d), f"machine: ls-style ANSI colour listing of {d} (file names only)")
    # git history of this repository at a fixed commit
    glog = git("log", "-n", "12", "--stat", "--date=iso", GIT_COMMIT)
    for ch in chunk_lines(glog)[:3]:
        add(ch, f"machine: git log --stat of this repository at {GIT_COMMIT[:12]} (promptsieve; MIT OR Apache-2.0)")
    revs = git("rev-list", "-n", "60", GIT_COMMIT).split()
    for rev in revs[5:60:11]:
        show = git("show", "--stat", "-p", "--no-color", rev)
        for ch in chunk_lines(show)[:1]:
            add(ch, f"machine: git show {rev[:12]} of this repository (promptsieve; MIT OR Apache-2.0)")
    # generated logs and data
    for kind, text in generated_logs(random.Random("generated-logs")):
        add(text, f"written for promptsieve: generated by build.py generated_logs() — {kind}; documentation IP ranges and example.* hosts")
    rows += written_rows("code_logs")
    return rows


# --------------------------------------------------------------------------

def validate(rows: list[dict], cat: str) -> list[dict]:
    out, seen = [], set()
    for r in rows:
        t = r["text"]
        if not (MIN_LEN <= len(t) <= MAX_LEN):
            print(f"warning: {cat}: dropping row of length {len(t)} from {r['source'][:80]}", file=sys.stderr)
            continue
        h = hashlib.sha256(t.encode()).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        out.append(r)
    return out


BUILDERS = {
    "rtl_marks": build_rtl,
    "chat_export": build_chat,
    "support_correction": lambda: written_rows("support_correction"),
    "security_discussion": lambda: written_rows("security_discussion"),
    "system_prompt": lambda: written_rows("system_prompt"),
    "code_logs": build_code,
}


def main() -> int:
    check = "--check" in sys.argv
    drift = False
    for cat, fn in BUILDERS.items():
        rows = validate(fn(), cat)
        data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows).encode("utf-8")
        path = os.path.join(HERE, f"{cat}.jsonl")
        if check:
            old = open(path, "rb").read() if os.path.exists(path) else b""
            if old != data:
                print(f"drift: {cat}.jsonl differs from a fresh build", file=sys.stderr)
                drift = True
        else:
            with open(path, "wb") as fh:
                fh.write(data)
        print(f"{cat}: {len(rows)} rows, {len(data)} bytes")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
