#!/usr/bin/env python3
"""Builds the name tagger's negative gazetteers: rules/dict/places.txt and
rules/dict/organisations.txt (see SOURCES.md).

places.txt: the city of every time zone (zone.tab and zone1970.tab) and
every country name (iso3166.tab) of the IANA tz database, which is in the
public domain, plus the hand-written PLACES_CURATED below. Entries that are
given names in first-names.txt ("Adelaide", "Sydney", "Victoria") are left
out: the gazetteer says "a place, not a person", and for those words that is
not true often enough.

organisations.txt: ORGANISATIONS_CURATED below, hand-written for
promptsieve (the project's licence).

Usage: python3 rules/dict/build_gazetteer.py [TZDIR]   (default /usr/share/zoneinfo)
Deterministic: rerunning it gives the same bytes.
"""
import pathlib
import sys
import unicodedata

here = pathlib.Path(__file__).resolve().parent
tz = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/zoneinfo")

# Places the tz database has no zone for, in the languages the corpora and
# templates use: regions, states and cities commonly written in text.
# Entries are separated by whitespace; `_` joins the words of one entry.
PLACES_CURATED = """
africa america asia europe oceania antarctica scandinavia balkans caribbean
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
vermont virginia wisconsin wyoming
new_york new_jersey new_mexico new_hampshire north_carolina south_carolina north_dakota south_dakota
west_virginia rhode_island washington_dc puerto_rico hong_kong new_zealand south_africa saudi_arabia
united_states united_kingdom great_britain northern_ireland sri_lanka costa_rica el_salvador
england scotland wales ireland britain bavaria saxony tyrol catalonia andalusia galicia castile
lombardy tuscany sicily sardinia provence normandy brittany flanders wallonia holland
leeds manchester liverpool birmingham glasgow edinburgh cardiff bristol sheffield newcastle oxford
cambridge brighton york nottingham leicester coventry belfast aberdeen southampton portsmouth
springfield boston chicago houston dallas austin seattle portland denver atlanta miami detroit
philadelphia baltimore pittsburgh cleveland cincinnati phoenix vegas nashville memphis orlando
tampa sacramento oakland brooklyn manhattan queens bronx hollywood
munich hamburg cologne köln frankfurt stuttgart düsseldorf dresden leipzig hannover nuremberg bremen
bonn zurich zürich geneva basel bern lausanne salzburg innsbruck graz
lyon marseille toulouse nice nantes strasbourg bordeaux lille rennes grenoble
barcelona valencia sevilla seville bilbao málaga zaragoza granada
milano milan roma torino turin napoli naples firenze florence venezia venice bologna genova genoa
palermo verona
rotterdam utrecht eindhoven groningen antwerpen antwerp gent ghent brugge bruges
porto lisboa coimbra braga são_paulo rio_de_janeiro belo_horizonte porto_alegre salvador recife
fortaleza curitiba brasília brasil
göteborg gothenburg malmö uppsala bergen trondheim stavanger aarhus odense aalborg
kraków krakow gdańsk wrocław poznań łódź brno bratislava košice zagreb split rijeka beograd belgrade
novi_sad niš ljubljana sarajevo skopje sofia bucharest budapest
"""

ORGANISATIONS_CURATED = """
google alphabet apple microsoft amazon meta facebook instagram whatsapp twitter youtube linkedin
netflix spotify uber airbnb paypal tesla nvidia intel amd ibm oracle cisco sap siemens bosch
samsung sony panasonic toshiba hitachi nintendo huawei xiaomi lenovo nokia ericsson philips
toyota honda nissan mazda subaru hyundai kia volkswagen audi bmw mercedes porsche ferrari fiat
renault peugeot citroën volvo scania saab boeing airbus lufthansa ryanair easyjet
ikea lego nestlé unilever danone heineken carlsberg adidas nike puma zara walmart costco tesco
aldi lidl carrefour ebay alibaba tencent baidu yahoo reddit wikipedia mozilla github gitlab
openai anthropic deepmind
reuters bloomberg bbc cnn nbc cbs espn hbo pixar marvel disney warner paramount
enron deloitte kpmg pwc pricewaterhousecoopers accenture mckinsey goldman_sachs morgan_stanley
jpmorgan citibank citigroup barclays hsbc santander ubs rabobank unicredit bnp_paribas
visa mastercard
nasa nato unesco unicef fifa uefa nba nfl nhl mlb ioc opec interpol europol
harvard yale princeton stanford mit berkeley sorbonne
arsenal chelsea tottenham everton liverpool_fc manchester_united manchester_city leeds_united
real_madrid atlético_madrid fc_barcelona juventus inter_milan ac_milan lazio
bayern dortmund schalke ajax psv feyenoord benfica sporting flamengo corinthians palmeiras
santos fluminense botafogo grêmio internacional celtic rangers
congress parliament senate bundestag
"""

def split_block(block):
    """Whitespace-separated entries; `_` joins the words of one entry."""
    return [w.replace("_", " ") for w in block.split()]

def norm(s):
    return unicodedata.normalize("NFC", " ".join(s.replace("_", " ").split()).lower())

def dict_words(name):
    return {l.strip() for l in (here / name).read_text(encoding="utf-8").splitlines()
            if l.strip() and not l.startswith("#")}

first = dict_words("first-names.txt")
places = set()
for f in ("zone.tab", "zone1970.tab"):
    for line in (tz / f).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        zone = line.split("\t")[2]
        places.add(norm(zone.split("/")[-1]))
for line in (tz / "iso3166.tab").read_text(encoding="utf-8").splitlines():
    if line.startswith("#") or not line.strip():
        continue
    name = line.split("\t")[1]
    # "Britain (UK)", "Korea (South)", "Virgin Islands (US)": the name
    # before the bracket; "Bosnia & Herzegovina": both.
    name = name.split("(")[0].strip()
    for part in name.split("&"):
        places.add(norm(part))
places |= {norm(w) for w in split_block(PLACES_CURATED)}
places = sorted(p for p in places if p and p not in first and not any(c.isdigit() for c in p))
orgs = sorted({norm(w) for w in split_block(ORGANISATIONS_CURATED)})

head = ("# promptsieve name-tagger gazetteer -- generated by rules/dict/build_gazetteer.py; do not edit by hand.\n"
        "# One entry per line, NFC, lower-case, sorted; multi-word entries are separated by single spaces.\n")
(here / "places.txt").write_text(
    head + "# Sources: IANA tz database (public domain) zone.tab, zone1970.tab, iso3166.tab; PLACES_CURATED (ours).\n"
    + "".join(p + "\n" for p in places), encoding="utf-8")
(here / "organisations.txt").write_text(
    head + "# Source: ORGANISATIONS_CURATED in build_gazetteer.py (ours).\n" + "".join(o + "\n" for o in orgs),
    encoding="utf-8")
print(f"places.txt: {len(places)} entries; organisations.txt: {len(orgs)} entries")
