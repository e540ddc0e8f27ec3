#!/usr/bin/env python3
"""Rebuild the PERSON-name dictionaries in rules/dict/ from pinned upstream packages.

Deterministic: same inputs -> byte-identical outputs (sorted, no timestamps).

Inputs (see SOURCES.md for licences and the exact download commands):
  PKG_DIR/faker-40.63.0-py3-none-any.whl     PyPI Faker 40.63.0 (MIT)
  PKG_DIR/names-0.3.0.tar.gz                 PyPI names 0.3.0 (MIT; data = US Census 1990, public domain)
  PKG_DIR/wordfreq-3.1.1-py3-none-any.whl    PyPI wordfreq 3.1.1 (data CC-BY-SA 4.0) -- used only as a
                                             yes/no "is this a frequent word" test, nothing copied
  /usr/share/dict/{american-english-small,british-english-small}  Debian wamerican-small/wbritish-small
                                             2020.12.07-2 (public domain)
  /usr/share/dict/{ngerman,french,spanish,italian,portuguese,brazilian,dutch}
                                             Debian wngerman/wfrench/wspanish/witalian/wportuguese/
                                             wbrazilian/wdutch -- used only as a yes/no "is this a
                                             dictionary word" test, nothing copied

Usage:  python3 build_dicts.py [PKG_DIR]      (default PKG_DIR=/work/scratch/pkgs)
Needs:  Python >= 3.8 and the `msgpack` module (pip install msgpack==1.1.0) to read wordfreq data.
"""
import ast
import gzip
import io
import os
import re
import sys
import tarfile
import unicodedata
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = sys.argv[1] if len(sys.argv) > 1 else "/work/scratch/pkgs"

FAKER_VER = "40.63.0"
NAMES_VER = "0.3.0"
WORDFREQ_VER = "3.1.1"
FAKER_WHL = os.path.join(PKG_DIR, f"faker-{FAKER_VER}-py3-none-any.whl")
NAMES_TGZ = os.path.join(PKG_DIR, f"names-{NAMES_VER}.tar.gz")
WORDFREQ_WHL = os.path.join(PKG_DIR, f"wordfreq-{WORDFREQ_VER}-py3-none-any.whl")

# Requested locales; the ones Faker 40.63.0 lacks (en_CA, en_AU, it_CH) are skipped and reported.
LOCALES = ["en_US", "en_GB", "es_ES", "fr_FR", "de_DE", "it_IT", "pt_BR", "pt_PT", "nl_NL",
           "en_CA", "en_AU", "es_MX", "fr_CA", "de_AT", "de_CH", "it_CH", "nl_BE"]

# US Census 1990 surnames are ranked by frequency; keep the most frequent ones only
# (rank <= CENSUS_LAST_TOP covers ~85 % of the 1990 population) to keep the file small.
CENSUS_LAST_TOP = 20000

# Word-frequency threshold (wordfreq Zipf scale: 3 = once per million words) above which a
# name that is also a lower-case dictionary word counts as a "common word".
ZIPF_COMMON = 3.3
ZIPF_VERY_COMMON = 4.5
# Languages whose word lists decide the name-words tier.
WORD_LANGS = {
    "en": ["american-english-small", "british-english-small"],
    "de": ["ngerman"],
    "fr": ["french"],
    "es": ["spanish"],
    "it": ["italian"],
    "pt": ["portuguese", "brazilian"],
    "nl": ["dutch"],
}
DICT_DIR = "/usr/share/dict"
# Lists that write proper nouns Capitalised and common words lower-case.
CASE_AWARE_LISTS = ["american-english-small", "british-english-small", "italian", "portuguese",
                    "brazilian", "dutch"]

# Hand-curated: capitalised common words (in any of the 7 languages) that stand beside names in
# prompts and must never be reported as names, even where an upstream list has them as a name.
# Months, weekdays, greetings/closings, titles/honorifics, pronouns, determiners, frequent
# sentence starters, religious words.
NEVER_NAMES_CURATED = """
january february march april may june july august september october november december
feb apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday
mon tue tues wed thu thur thurs fri sat sun
januar februar märz maerz mai juni juli oktober dezember
montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag
janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre décembre
lundi mardi mercredi jeudi vendredi samedi dimanche
enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
lunes martes miércoles miercoles jueves viernes sábado sabado domingo
gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi venerdì venerdi sabato domenica
janeiro fevereiro março marco maio junho julho setembro outubro dezembro
segunda terça terca quarta quinta sexta
januari februari maart mei augustus oktober
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
spring summer autumn fall winter
god lord jesus christ allah
dear hi hello hey hiya greetings thanks thank regards cheers best kind sincerely yours
liebe lieber hallo grüße gruesse gruß gruss herzliche freundliche danke
cher chère chere bonjour salut merci cordialement amitiés amities
querido querida hola saludos gracias atentamente
caro cara ciao salve grazie saluti cordiali distinti
olá ola oi obrigado obrigada abraços abracos atenciosamente
beste geachte hoi groeten bedankt hartelijk
mr mrs ms miss mx dr prof sir madam madame mister mistress doctor professor
herr frau fräulein fraeulein monsieur mademoiselle mme mlle mm
señor senor señora senora señorita senorita sr sra srta don doña dona
signor signore signora signorina sig dott dottore dottoressa ing avv
senhor senhora sra dra
meneer mevrouw mevr dhr juffrouw
i me my mine you your yours he him his she her hers it its we us our they them their
ich du er sie es wir ihr mein meine dein deine sein seine
je tu il elle nous vous ils elles mon ma mes ton ta tes son sa ses
yo tú el ella nosotros vosotros ellos ellas mi mis tu tus su sus
io lui lei noi voi loro
eu ele ela nós nos vós eles elas meu minha
ik jij hij zij wij jullie mijn jouw zijn haar
the a an and or but if then this that these those there here what which who whom whose why how when where
der die das ein eine und oder aber wenn dann dies diese dieser
le la les un une et ou mais si alors ce cette ces
el los las uno una y o pero entonces este esta estos estas
il lo gli uno una e o ma se allora questo questa
o os as um uma e ou mas se então este esta
de het een en of maar als dan deze dit die
please note yes no ok okay sorry welcome
i'm i'd i'll i've it's let's that's there's what's here's who's we're you're they're he's she's
english british american canadian australian french german spanish italian dutch portuguese
greek czech polish swedish norwegian danish finnish hungarian russian chinese japanese korean
indian turkish arabic hebrew latin catalan basque romanian bulgarian serbian croatian ukrainian
corp inc ltd llc plc gmbh
brazilian mexican european african asian irish scottish welsh swiss austrian belgian
america england britain scotland wales ireland france germany spain italy portugal brazil
netherlands holland belgium austria switzerland canada australia mexico poland sweden norway
denmark finland iceland greece turkey russia china japan india egypt israel chile peru
argentina colombia venezuela uruguay paraguay bolivia ecuador cuba morocco hungary romania
bulgaria serbia croatia slovenia slovakia czechia ukraine europe asia africa london paris
berlin madrid rome lisbon amsterdam brussels vienna zurich geneva milan munich hamburg
deutschland frankreich spanien italien österreich schweiz niederlande espagne allemagne
italie angleterre españa alemania francia italia inglaterra olanda germania spagna
holanda alemanha frança itália inglaterra duitsland frankrijk spanje italië engeland
user assistant system admin administrator customer client team support
""".split()


def norm(s):
    """NFC, strip, lower-case; collapse inner whitespace."""
    s = unicodedata.normalize("NFC", s).strip()
    s = re.sub(r"\s+", " ", s)
    return s.lower()


def keep(name):
    if len(name) < 2 or any(ch.isdigit() for ch in name):
        return False
    # letters plus inner space / hyphen / apostrophe / period only
    if not all(ch.isalpha() or ch in " -'’." for ch in name):
        return False
    if not name[0].isalpha():
        return False
    return len(name.replace(" ", "").replace("-", "").replace("'", "").replace("’", "").replace(".", "")) >= 2


def faker_names(zf, locale):
    """Every string literal in class-level assignments named first_names* / last_names*."""
    path = f"faker/providers/person/{locale}/__init__.py"
    try:
        src = zf.read(path).decode("utf-8")
    except KeyError:
        return None
    tree = ast.parse(src)
    out = {"first": set(), "last": set()}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                targets, value = [stmt.target], stmt.value
            else:
                continue
            for t in targets:
                if not isinstance(t, ast.Name):
                    continue
                kind = "first" if t.id.startswith("first_names") else "last" if t.id.startswith("last_names") else None
                if kind is None:
                    continue
                for sub in ast.walk(value):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        out[kind].add(sub.value)
    return path, out


def census_names(tf):
    def read(member):
        f = tf.extractfile(f"names-{NAMES_VER}/names/{member}")
        rows = []
        for line in io.TextIOWrapper(f, encoding="ascii"):
            parts = line.split()
            if len(parts) == 4:
                rows.append((parts[0], int(parts[3])))
        return rows
    first = {n for n, _ in read("dist.male.first")} | {n for n, _ in read("dist.female.first")}
    last = {n for n, r in read("dist.all.last") if r <= CENSUS_LAST_TOP}
    return first, last


def wordfreq_zipf(zf, lang):
    """{word: zipf} from wordfreq's cBpack file (list of buckets, bucket i = -i centibels)."""
    import msgpack
    data = msgpack.unpackb(gzip.decompress(zf.read(f"wordfreq/data/large_{lang}.msgpack.gz")), raw=False)
    out = {}
    for i, bucket in enumerate(data[1:]):  # data[0] is the header
        z = (-i / 100.0) + 9.0  # centibels -> zipf (log10 per billion)
        for w in bucket:
            out.setdefault(w, z)
    return out


def debian_words(fn):
    """Entries of one Debian word list (NFC), possessives ("'s") dropped."""
    words = set()
    with open(os.path.join(DICT_DIR, fn), encoding="utf-8", errors="strict") as f:
        for line in f:
            w = unicodedata.normalize("NFC", line.strip())
            if w and "'" not in w:
                words.add(w)
    return words


def write_list(fn, header, entries):
    with open(os.path.join(HERE, fn), "w", encoding="utf-8", newline="\n") as f:
        for h in header:
            f.write(f"# {h}\n" if h else "#\n")
        for e in sorted(entries):
            f.write(e + "\n")


def main():
    stats = {}
    zf = zipfile.ZipFile(FAKER_WHL)
    first, last = set(), set()
    used_locales, missing, faker_files = [], [], []
    for loc in LOCALES:
        r = faker_names(zf, loc)
        if r is None:
            missing.append(loc)
            continue
        path, got = r
        used_locales.append(loc)
        faker_files.append(path)
        first |= {norm(n) for n in got["first"]}
        last |= {norm(n) for n in got["last"]}
    faker_first, faker_last = {n for n in first if keep(n)}, {n for n in last if keep(n)}
    with tarfile.open(NAMES_TGZ) as tf:
        cf, cl = census_names(tf)
    first = faker_first | {norm(n) for n in cf if keep(norm(n))}
    last = faker_last | {norm(n) for n in cl if keep(norm(n))}
    stats["faker_first"], stats["faker_last"] = len(faker_first), len(faker_last)
    stats["census_first"], stats["census_last"] = len(cf), len(cl)

    # ---- common-word test -------------------------------------------------------------------
    wz = zipfile.ZipFile(WORDFREQ_WHL)
    names = first | last
    single = {n for n in names if " " not in n}
    lists = {fn: debian_words(fn) for fns in WORD_LANGS.values() for fn in fns}
    # Proper nouns according to the case-aware lists (they write names Capitalised).
    proper = set()
    case_lower = set()
    for fn in CASE_AWARE_LISTS:
        for w in lists[fn]:
            if w[:1].isupper() and w[1:] == w[1:].lower():
                proper.add(w.lower())
            elif w == w.lower():
                case_lower.add(w)
    name_words, why = set(), {}
    for lang, files in WORD_LANGS.items():
        zipf = wordfreq_zipf(wz, lang)
        dic = set().union(*(lists[fn] for fn in files))
        for n in sorted(single):
            z = zipf.get(n, 0.0)
            if z < ZIPF_COMMON:
                continue
            cap = n[:1].upper() + n[1:]
            if lang == "de":
                # lower-case entry (verb/adjective) or a capitalised noun that has an inflected
                # form in the list (Rose->Rosen, Bauer->Bauern, Wolf->Wolfe); first names have none.
                ok = n in dic or (cap in dic and any(cap + suf in dic and (n + suf) not in names for suf in ("n", "en", "e")))
            elif lang in ("en", "it"):
                ok = n in dic  # case-aware lists: only lower-case entries match
            else:
                # es/fr lists are all lower-case, pt/nl lists also hold some lower-cased proper
                # names: when a case-aware list has the word Capitalised (a proper noun), accept
                # it as a common word only if it is very frequent in this language.
                ok = n in dic and (n not in proper or z >= ZIPF_VERY_COMMON)
            if ok:
                name_words.add(n)
                why.setdefault(n, []).append(f"{lang}:{z:.1f}")
    never = {norm(w) for w in NEVER_NAMES_CURATED}
    name_words -= never
    stats["name_words"], stats["never"] = len(name_words), len(never)
    stats["first"], stats["last"] = len(first), len(last)

    common_hdr = [
        "promptsieve PERSON dictionary -- generated by rules/dict/build_dicts.py; do not edit by hand.",
        "One entry per line, NFC, lower-case, sorted, deduplicated. See SOURCES.md.",
    ]
    faker_src = (f"Faker {FAKER_VER} (PyPI, MIT License, faker-{FAKER_VER}.dist-info/licenses/LICENSE.txt): "
                 f"first_names*/last_names* of faker/providers/person/<locale>/__init__.py for {' '.join(used_locales)}")
    census_src = (f"names {NAMES_VER} (PyPI, MIT License; data: US Census Bureau 1990 name files, public domain): ")
    write_list("first-names.txt", common_hdr + [
        "Sources:",
        "  " + faker_src,
        "  " + census_src + "names/dist.male.first + names/dist.female.first (all entries)",
        f"Entries: {len(first)}",
    ], first)
    write_list("last-names.txt", common_hdr + [
        "Sources:",
        "  " + faker_src,
        "  " + census_src + f"names/dist.all.last, entries with rank <= {CENSUS_LAST_TOP}",
        f"Entries: {len(last)}",
    ], last)
    write_list("name-words.txt", common_hdr + [
        "Names from first-names.txt/last-names.txt (single tokens) that are ALSO common words:",
        "  lower-case entry of a Debian word list (German: any-case entry) of en/de/fr/es/it/pt/nl AND",
        f"  wordfreq {WORDFREQ_VER} Zipf frequency >= {ZIPF_COMMON} in that language; minus never-names.txt.",
        "  Word lists: Debian wamerican/wbritish (public domain), wngerman (GPL-2+), wfrench (GPL-2+),",
        "  wspanish (public domain), witalian (GPL-3+), wportuguese/wbrazilian (GPL), wdutch (CC-BY 3.0 / BSD);",
        "  wordfreq data CC-BY-SA 4.0 (Robyn Speer). Only the yes/no fact 'this name is a common word' is",
        "  recorded here; no word list content beyond names already in our name files is copied.",
        f"Entries: {len(name_words)}",
    ], name_words)
    write_list("never-names.txt", common_hdr + [
        "Hand-curated in build_dicts.py (NEVER_NAMES_CURATED), licence: same as promptsieve.",
        "Words never reported as a name even when capitalised: months, weekdays, seasons, greetings,",
        "closings, titles/honorifics, pronouns, determiners, frequent sentence starters (en/de/fr/es/it/pt/nl).",
        f"Entries: {len(never)}",
    ], never)
    with open("/tmp/name-words.why.tsv", "w") as f:
        for n in sorted(why):
            f.write(f"{n}\t{' '.join(why[n])}\n")
    print("locales used:", " ".join(used_locales))
    print("locales missing in Faker:", " ".join(missing))
    for k, v in stats.items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
