#!/usr/bin/env python3
"""Generates loket's classification training data (data/classification/*.jsonl).

Written for loket; licence EUPL-1.2 like the code. Every message is made from a
*group*: one or more hand-written phrasings with inline choices `{a|b|c}` and shared
slots `{straat}`, expanded a few times and put through noise (typos, lower case, SMS
abbreviations, email greeting and signature). All messages of a group share one `group`
value, and evaluation keeps a group inside one fold, so near-duplicates never sit on
both sides of a train/test split.

Run from the repository root:  python3 data/classification/generate.py
The output is deterministic (seeded) and committed; the model is trained from it.
"""

import json
import random
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent
rng = random.Random(20260312)

# ---------------------------------------------------------------------------
# Shared slots
# ---------------------------------------------------------------------------
SLOTS = {
    "voornaam": ["Anouk", "Mohammed", "Sanne", "Pieter", "Fatima", "Jeroen", "Ilse", "Kevin",
                 "Yusuf", "Marieke", "Bram", "Ayşe", "Henk", "Priya", "Dewi", "Thijs", "Noor",
                 "Gerrit", "Lotte", "Rachid"],
    "achternaam": ["de Vries", "Jansen", "Bakker", "El Amrani", "Visser", "Smit", "Yilmaz",
                   "van Dijk", "Mulder", "de Boer", "Kok", "Bos", "Peters", "Hendriks",
                   "van den Berg", "Öztürk", "Dekker", "Brouwer"],
    "straat": ["Lindelaan", "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Beukenlaan",
               "Julianastraat", "Schoolstraat", "Prins Hendrikkade", "Vondelstraat",
               "Marktstraat", "Eikenlaan", "Kastanjehof", "Zuidsingel", "Wilhelminapark"],
    "nr": ["3", "12", "27a", "8", "104", "56", "19", "2b", "71", "33"],
    "wanneer": ["gisteren", "vandaag", "afgelopen maandag", "vorige week", "al drie weken",
                "sinds dinsdag", "vanochtend", "eergisteren", "al een maand"],
    "datum": ["12 maart", "3 april", "28 januari", "15 september", "1 juli", "20 november",
              "9 mei", "30 juni"],
    "plein": ["Stationsplein", "Marktplein", "Kerkplein", "Raadhuisplein", "Julianaplein"],
    "project": ["de herinrichting van het Stationsplein", "de nieuwe sporthal aan de Molenweg",
                "de windturbines in de Noordpolder", "de opvanglocatie aan de Zuidsingel",
                "de bomenkap aan de Lindelaan", "het parkeerbeleid in de binnenstad",
                "de aanbesteding van het afvalcontract", "de sluiting van zwembad De Wetering",
                "de verkoop van het oude raadhuis", "het nieuwe bestemmingsplan Centrum",
                "de fietsbrug over het kanaal", "de zonneweide bij Oosterveld",
                "het evenement Koningsdag op het Marktplein", "de renovatie van basisschool De Regenboog"],
    "project_en": ["the redevelopment of the Stationsplein", "the new sports hall",
                   "the wind turbines in the Noordpolder", "the closure of the swimming pool",
                   "the sale of the old town hall", "the tree felling on the Lindelaan"],
    "orgaan": ["het college", "de wethouder", "de burgemeester", "de gemeenteraad",
               "de afdeling Ruimte", "het college van B&W"],
    "partij": ["de projectontwikkelaar", "de provincie", "Rijkswaterstaat", "het COA",
               "de aannemer", "een adviesbureau", "de woningcorporatie", "de politie"],
    "kenteken": ["12-ABC-3", "GH-123-K", "5-XKL-88", "ZT-904-P", "1-TRS-22"],
    "bedrag": ["€ 74,50", "€ 312,-", "€ 96", "€ 1.240,00", "€ 58,20", "€ 430"],
    "tijd": ["9 uur", "half 11", "14.30", "kwart over 3", "17:00", "10 uur"],
    "zaak": ["Z-2026-0412", "2026/18823", "ref. 55012", "kenmerk OV-3381"],
}


def bsn_valid(n):
    digits = [int(c) for c in n]
    if len(digits) != 9:
        return False
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1))) - digits[8]
    return total % 11 == 0 and n != "000000000"


def make_bsn():
    while True:
        n = "".join(str(rng.randint(0, 9)) for _ in range(9))
        if n[0] != "0" and bsn_valid(n):
            return n


def make_non_bsn():
    while True:
        n = "".join(str(rng.randint(0, 9)) for _ in range(9))
        if n[0] != "0" and not bsn_valid(n):
            return n


def fmt_bsn(n):
    return rng.choice([n, n, f"{n[:4]}.{n[4:6]}.{n[6:]}", f"{n[:3]} {n[3:6]} {n[6:]}"])


def slot(name):
    if name == "bsn":
        return fmt_bsn(make_bsn())
    if name == "nietbsn":
        return make_non_bsn()
    if name == "telefoon":
        return "06" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    if name == "naam":
        return f"{rng.choice(SLOTS['voornaam'])} {rng.choice(SLOTS['achternaam'])}"
    return rng.choice(SLOTS[name])


CHOICE = re.compile(r"\{([^{}]*)\}")


def expand(template):
    # Inner choices first, so "{a|{b|c}}" works; a bare {name} is a slot.
    while True:
        m = CHOICE.search(template)
        if not m:
            return re.sub(r"[ \t]+", " ", template).strip()
        body = m.group(1)
        if "|" in body or body == "":
            rep = rng.choice(body.split("|"))
        else:
            rep = slot(body)
        template = template[: m.start()] + rep + template[m.end():]


# ---------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------
SMS_ABBREV = [("even", "ff"), ("niet", "nie"), ("bedankt", "thx"), ("groetjes", "grtz"),
              ("ik", "k"), ("jullie", "jullie"), ("wat", "wa"), ("dat", "da"),
              ("met", "mt"), ("vriendelijke", "vr"), ("alvast", "alvst"), ("weet", "wt")]


def typo(word):
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def noisy(text, channel, lang):
    words = text.split(" ")
    p_typo = {"sms": 0.08, "webchat": 0.05, "email": 0.015}[channel]
    words = [typo(w) if rng.random() < p_typo else w for w in words]
    text = " ".join(words)
    if channel == "sms" and lang == "nl":
        for a, b in SMS_ABBREV:
            if rng.random() < 0.5:
                text = re.sub(rf"\b{a}\b", b, text)
    if channel in ("sms", "webchat") and rng.random() < 0.45:
        text = text.lower()
    if channel in ("sms", "webchat") and rng.random() < 0.35:
        text = text.rstrip(".!")
    if channel in ("sms", "webchat") and rng.random() < 0.12:
        text += rng.choice([" 🙏", " :)", " !!", " ??", " 😡", " 👍"])
    return text


GREET_NL = ["Geachte heer/mevrouw,", "Beste,", "Goedemiddag,", "Geachte medewerker,",
            "Beste gemeente,", "Hallo,", "Geacht college,"]
CLOSE_NL = ["Met vriendelijke groet,", "Vriendelijke groet,", "Groet,", "Mvg,",
            "Alvast bedankt,", "Hoogachtend,"]
GREET_EN = ["Dear Sir or Madam,", "Hello,", "Dear municipality,", "Hi,"]
CLOSE_EN = ["Kind regards,", "Best regards,", "Thanks,", "Sincerely,"]


GREET_PERS = ["Hoi,", "Hey!", "Hallo lieverd,", "Hi,"]
CLOSE_PERS = ["Liefs,", "Groetjes,", "xx", "Dikke kus,", "Cheers,"]


def email_wrap(body, lang, rel="publieke_taak"):
    if rel == "spam":
        return body + "\n\n" + rng.choice(["Afmelden? Klik hier.", "Unsubscribe", "Dit is een automatisch bericht.", ""])
    if rel == "persoonlijk":
        return "\n".join([rng.choice(GREET_PERS), "", body, "", rng.choice(CLOSE_PERS), slot("voornaam")])
    g, c = (GREET_NL, CLOSE_NL) if lang == "nl" else (GREET_EN, CLOSE_EN)
    parts = [rng.choice(g), "", body, "", rng.choice(c), slot("naam")]
    if rng.random() < 0.5:
        parts.append(f"{slot('straat')} {slot('nr')}")
    if rng.random() < 0.25:
        parts.append(f"Tel. {slot('telefoon')}")
    return "\n".join(parts)


CLERK_SIGN = ["Met vriendelijke groet,\nTeam Publiekszaken", "Groet,\nKlantcontactcentrum",
              "Met vriendelijke groet,\n{voornaam}, gemeente", "Vriendelijke groet,\nAfdeling Dienstverlening"]

# ---------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------
GROUPS = []


def G(gid, rel, topic, templates, *, woo=False, special=(), lang="nl", channels=("webchat", "email", "sms"),
      direction="inbound", n=7, hard=None, subject=None, family=None):
    # `family` is the fold group: templates that share phrasing stay in one fold.
    GROUPS.append(dict(gid=gid, rel=rel, topic=topic, templates=templates, woo=woo,
                       special=list(special), lang=lang, channels=channels,
                       direction=direction, n=n, hard=hard, subject=subject,
                       family=family or gid))


P, PERS, SPAM = "publieke_taak", "persoonlijk", "spam"

# --- afval -----------------------------------------------------------------
G("afval-container-niet-geleegd", P, "afval", [
    "{Hoi|Hallo|Goedemorgen}, onze {grijze|groene|blauwe|gft} {container|kliko|bak} is {wanneer} niet geleegd. {Komen jullie nog?|Wat nu?|Kan de wagen alsnog langskomen?}",
    "De {vuilniswagen|afvalwagen} heeft de {kliko|container} aan de {straat} {overgeslagen|vergeten}, {wanneer}.",
])
G("afval-grofvuil", P, "afval", [
    "Ik wil {grofvuil|een oude bank|een kapotte wasmachine|een matras} laten ophalen. {Hoe maak ik een afspraak?|Kan dat deze week nog?|Wat kost dat?}",
    "Kunnen jullie {een bankstel|oude kasten|een koelkast} ophalen bij {straat} {nr}?",
])
G("afval-milieustraat", P, "afval", [
    "Wat zijn de openingstijden van de {milieustraat|afvalbrengstation|recyclingstation}? Ik heb {puin|snoeiafval|verf|oude elektrische apparaten} weg te brengen.",
    "Mag ik {asbest|autobanden|bouwafval} bij de milieustraat inleveren?",
])
G("afval-pasje", P, "afval", [
    "Mijn {afvalpas|milieupas|pasje voor de ondergrondse container} {is kwijt|doet het niet meer|is gestolen}. {Hoe krijg ik een nieuwe?|Kunnen jullie een nieuwe sturen?}",
    "De ondergrondse container {aan de straat|bij de {straat}} accepteert mijn pas niet.",
])
G("afval-kalender", P, "afval", [
    "Wanneer wordt {het papier|het plastic|de gft-bak|het restafval} {deze week|volgende week|na de feestdagen} opgehaald?",
    "Waar vind ik de afvalkalender voor {straat}? {De app|De website} {werkt niet|geeft niks}.",
])
G("afval-kapot", P, "afval", [
    "Onze {container|kliko} is {kapot|gescheurd|het deksel is eraf} {na het legen|door de vuilniswagen}. Kan ik een nieuwe krijgen?",
    "Het wieltje van mijn {grijze|groene} bak is afgebroken.",
])
G("afval-dumping", P, "afval", [
    "Er {staan|liggen} al {wanneer} {vuilniszakken|dozen en zakken|een oude bank} naast de {container|ondergrondse container} aan de {straat}. {Het stinkt|Ratten!|Wie ruimt dit op?}",
    "Iemand heeft {afval|een hoop troep|bouwafval} gedumpt {in de berm|achter de flat|bij het speelveldje} aan de {straat}.",
])
G("afval-nieuwe-woning", P, "afval", [
    "Ik ben {net|pas} verhuisd naar {straat} {nr} en er staat {geen container|geen gft-bak|maar één bak}. Hoe kom ik daaraan?",
])
G("afval-en", P, "afval", [
    "{Hi|Hello}, our {bin|garbage bin|recycling bin} was not emptied {yesterday|this week|on Monday}. {Will someone come back?|What should I do?}",
    "When is the {bulky waste|recycling|garbage} collected in {straat}? I just moved here.",
], lang="en")
G("afval-sms-kort", P, "afval", [
    "bak nie geleegd {straat} {nr}", "container {straat} weer vergeten!!", "wanneer grofvuil ophalen?",
    "kliko kapot, nieuwe aub",
], channels=("sms", "webchat"))
G("afval-lang", P, "afval", [
    "Sinds de invoering van {het nieuwe afvalbeleid|diftar|de ondergrondse containers} gaat het bij ons in de wijk mis. {wanneer} {stonden|lagen} er weer {zakken|dozen} naast de container, de container zelf zit vol en de meeuwen trekken alles open. Ik heb al {twee keer|vaak} een melding gedaan maar er gebeurt niets. Kunnen jullie de container vaker legen of er een tweede plaatsen?",
], channels=("email",))

# --- parkeren --------------------------------------------------------------
G("parkeren-vergunning", P, "parkeren", [
    "Hoe vraag ik een {parkeervergunning|bewonersvergunning|bezoekersvergunning} aan voor {straat}?",
    "Ik heb {een nieuwe auto|een ander kenteken} ({kenteken}). Hoe wijzig ik mijn parkeervergunning?",
])
G("parkeren-boete", P, "parkeren", [
    "Ik heb een {parkeerboete|naheffingsaanslag} gekregen {wanneer} maar ik had {gewoon betaald|een geldige vergunning|de app aanstaan}. {Hoe maak ik bezwaar?|Dit klopt niet.}",
    "Naheffingsaanslag parkeerbelasting voor {kenteken} van {bedrag}: ik stond er maar {vijf minuten|even} om te laden.",
])
G("parkeren-gehandicapt", P, "parkeren", [
    "Ik wil een {gehandicaptenparkeerkaart|gehandicaptenparkeerplaats} aanvragen {voor mijn moeder|voor mezelf|bij mijn huis}. Wat moet ik doen?",
    "Kan er een invalidenparkeerplaats komen {voor de deur|bij {straat} {nr}}?",
])
G("parkeren-automaat", P, "parkeren", [
    "De parkeerautomaat {op het {plein}|in de {straat}} {is kapot|neemt geen pin|geeft geen kaartje}.",
    "Parkeerautomaat {plein} doet het niet, {ik kan niet betalen|hoe betaal ik nu?}",
])
G("parkeren-foutparkeerders", P, "parkeren", [
    "Er staan {elke dag|steeds|'s avonds} auto's {op de stoep|voor mijn uitrit|op de invalidenplek} in de {straat}. {Kan er gehandhaafd worden?|Wie kan ik bellen?}",
    "Een {busje|vrachtwagen|camper} ({kenteken}) staat al {wanneer} {voor mijn deur|op de parkeerplaats} geparkeerd.",
])
G("parkeren-tarieven", P, "parkeren", [
    "Wat kost parkeren {in het centrum|bij het {plein}|op zondag}? {Is het 's avonds gratis?|Tot hoe laat moet je betalen?}",
    "Geldt de blauwe zone ook op {zaterdag|koopavond}?",
])
G("parkeren-en", P, "parkeren", [
    "I got a parking {fine|ticket} {yesterday|last week} for {kenteken}, but I {had paid with the app|have a permit}. How do I object?",
    "How can I get a {resident|visitor} parking permit?",
], lang="en")
G("parkeren-sms", P, "parkeren", [
    "bezoekersvergunning werkt nie", "parkeerboete onterecht {kenteken}", "auto op stoep {straat} weer",
    "hoe lang geldig bezoekerspas?",
], channels=("sms", "webchat"))

# --- vergunningen ----------------------------------------------------------
G("verg-dakkapel", P, "vergunningen", [
    "Heb ik een {omgevingsvergunning|vergunning} nodig voor {een dakkapel|een aanbouw|een schuur in de tuin|een carport}?",
    "Ik wil {een dakkapel plaatsen|mijn woning uitbouwen|een erker bouwen} aan de {straat} {nr}. Is dat vergunningvrij?",
])
G("verg-status", P, "vergunningen", [
    "Wat is de status van mijn vergunningaanvraag {zaak}? Ik heb {wanneer} nog niets gehoord.",
    "Mijn aanvraag voor een {omgevingsvergunning|bouwvergunning} ({zaak}) duurt {erg lang|al 10 weken}. Wanneer krijg ik een besluit?",
])
G("verg-evenement", P, "vergunningen", [
    "We willen {een buurtfeest|een straatfeest|een braderie|een festival} organiseren op {datum}. Welke vergunning hebben we nodig?",
    "Evenementenvergunning voor {een buurtbarbecue|een optocht|een sponsorloop} op het {plein}: hoe lang van tevoren aanvragen?",
])
G("verg-horeca", P, "vergunningen", [
    "Ik start {een café|een lunchroom|een snackbar} en wil {een terras|een drank- en horecavergunning|een exploitatievergunning}. Wat zijn de voorwaarden?",
    "Mag mijn terras aan het {plein} {groter|tot 23 uur open blijven}?",
])
G("verg-kap", P, "vergunningen", [
    "Heb ik een kapvergunning nodig om {de eik|een boom|de berk} in mijn {achtertuin|voortuin} te kappen?",
])
G("verg-bezwaar-buren", P, "vergunningen", [
    "Mijn buren {bouwen een schuur|plaatsen een hoge schutting|bouwen een aanbouw} {zonder vergunning|pal op de erfgrens}. Kan ik bezwaar maken tegen de vergunning?",
    "Tegen de verleende vergunning voor {straat} {nr} wil ik {bezwaar|een zienswijze} indienen.",
])
G("verg-standplaats", P, "vergunningen", [
    "Ik wil met {mijn foodtruck|een bloemenkraam|een viskraam} op de markt staan. Hoe krijg ik een standplaatsvergunning?",
])
G("verg-en", P, "vergunningen", [
    "Do I need a permit to {build an extension|place a dormer|cut down a tree} at my house on {straat}?",
    "We want to organise {a street party|a festival} on {datum}. Which permit do we need?",
], lang="en")
G("verg-lang", P, "vergunningen", [
    "Op {datum} heb ik via het Omgevingsloket een aanvraag ingediend voor {een dakopbouw|het splitsen van mijn pand|een bedrijfsloods} ({zaak}). Ik heb inmiddels {twee keer|drie keer} aanvullende stukken gestuurd: tekeningen, een constructieberekening en de welstandsparagraaf. De wettelijke termijn is volgens mij verstreken. Kunt u mij laten weten wanneer ik een besluit kan verwachten en of de vergunning nu van rechtswege is verleend?",
], channels=("email",))

# --- belastingen -----------------------------------------------------------
G("bel-woz", P, "belastingen", [
    "Ik ben het niet eens met de WOZ-waarde van mijn woning aan de {straat}. {Hoe maak ik bezwaar?|De waarde is veel te hoog.}",
    "Bezwaar tegen de WOZ-beschikking {zaak}: de woning is {te hoog|ruim 40.000 euro te hoog} getaxeerd.",
])
G("bel-aanslag", P, "belastingen", [
    "Ik heb de aanslag gemeentelijke belastingen ({bedrag}) ontvangen. Kan ik {in termijnen betalen|een betalingsregeling treffen|uitstel krijgen}?",
    "Waarom is mijn {OZB|afvalstoffenheffing|rioolheffing} {dit jaar zo hoog|gestegen}?",
])
G("bel-kwijtschelding", P, "belastingen", [
    "Ik heb een laag inkomen en kan de gemeentelijke belastingen niet betalen. Kan ik kwijtschelding aanvragen?",
    "Is mijn verzoek om kwijtschelding van {de afvalstoffenheffing|de belastingen} al behandeld?",
])
G("bel-hond", P, "belastingen", [
    "Mijn hond is {overleden|naar een nieuw baasje}. Hoe meld ik hem af voor de hondenbelasting?",
    "Moet ik hondenbelasting betalen voor {een puppy|twee honden}?",
])
G("bel-toerist", P, "belastingen", [
    "Ik verhuur {een B&B|een kamer via Airbnb|een vakantiewoning}. Hoe draag ik toeristenbelasting af?",
])
G("bel-dubbel", P, "belastingen", [
    "Ik heb {de aanslag|de belastingaanslag} {dubbel betaald|twee keer betaald|per ongeluk twee keer overgemaakt}. Wanneer krijg ik {bedrag} terug?",
    "Er is {bedrag} van mijn rekening afgeschreven voor belastingen, maar ik had al betaald.",
])
G("bel-en", P, "belastingen", [
    "I received a municipal tax {assessment|bill} of {bedrag}. Can I pay in instalments?",
    "How do I object to the WOZ value of my house?",
], lang="en")
G("bel-sms", P, "belastingen", [
    "aanslag {bedrag} klopt nie", "betalingsregeling belasting mogelijk?", "woz veel te hoog",
], channels=("sms", "webchat"))

# --- burgerzaken -----------------------------------------------------------
G("bz-paspoort", P, "burgerzaken", [
    "Ik wil {een nieuw paspoort|een ID-kaart|een paspoort voor mijn kind} aanvragen. {Moet ik een afspraak maken?|Wat moet ik meenemen?|Hoe lang duurt het?}",
    "Mijn {paspoort|rijbewijs|ID-kaart} is {verlopen|gestolen|kwijt}. Wat moet ik doen?",
])
G("bz-verhuizing", P, "burgerzaken", [
    "Ik ga op {datum} verhuizen naar {straat} {nr}. Hoe geef ik mijn verhuizing door?",
    "Hoe schrijf ik {mijn partner|mijn dochter|mezelf} in op mijn nieuwe adres?",
])
G("bz-uittreksel", P, "burgerzaken", [
    "Ik heb een uittreksel {uit de BRP|van de basisregistratie|geboorteakte} nodig {voor mijn werkgever|voor een visum|voor de notaris}. Kan ik dat online aanvragen?",
])
G("bz-trouwen", P, "burgerzaken", [
    "Wij willen op {datum} {trouwen|een geregistreerd partnerschap aangaan} in het stadhuis. Hoe plannen we dat?",
    "Kunnen we een {gratis huwelijk|trouwambtenaar naar keuze} krijgen?",
])
G("bz-geboorte", P, "burgerzaken", [
    "Onze {zoon|dochter} is {gisteren|vorige week} geboren. Hoe doe ik aangifte van de geboorte?",
])
G("bz-verkiezing", P, "burgerzaken", [
    "Ik heb mijn stempas {niet ontvangen|verloren}. Kan ik nog stemmen bij de {gemeenteraadsverkiezingen|Tweede Kamerverkiezingen}?",
    "Hoe machtig ik iemand om voor mij te stemmen?",
])
G("bz-rijbewijs", P, "burgerzaken", [
    "Mijn rijbewijs verloopt {volgende maand|op {datum}}. Kan ik het verlengen bij de gemeente?",
])
G("bz-en", P, "burgerzaken", [
    "I just moved to {straat} {nr}. How do I register my new address?",
    "How do I apply for a {passport|ID card} for my daughter?",
    "My {passport|residence document} was stolen. What do I need to do?",
], lang="en")
G("bz-sms", P, "burgerzaken", [
    "afspraak paspoort kan dat morgen?", "hoe laat open balie burgerzaken", "id kaart klaar?",
], channels=("sms", "webchat"))
G("bz-vog", P, "burgerzaken", [
    "Ik heb {voor mijn nieuwe baan|als vrijwilliger} een VOG nodig. Vraag ik die bij jullie aan?",
])

# --- zorg en welzijn -------------------------------------------------------
G("zorg-wmo", P, "zorg_en_welzijn", [
    "Mijn {moeder|vader|oma} kan {niet meer goed lopen|de trap niet meer op}. Kan zij via de Wmo {een traplift|een scootmobiel|huishoudelijke hulp} krijgen?",
    "Hoe vraag ik {huishoudelijke hulp|een rolstoel|woningaanpassing} aan via de Wmo?",
], special=["gezondheid"])
G("zorg-mantelzorg", P, "zorg_en_welzijn", [
    "Ik zorg {al jaren|elke dag} voor {mijn man|mijn zus|mijn buurvrouw}. Is er {ondersteuning|een mantelzorgcompliment|respijtzorg} voor mantelzorgers?",
])
G("zorg-jeugd", P, "zorg_en_welzijn", [
    "Mijn zoon {heeft ADHD|heeft autisme|is erg angstig} en we wachten al {maanden|een half jaar} op jeugdhulp. Wie kan ons helpen?",
    "Hoe krijgen we een indicatie voor {jeugdzorg|dagbehandeling|begeleiding} voor onze dochter met {autisme|een angststoornis}?",
], special=["gezondheid"])
G("zorg-eenzaam", P, "zorg_en_welzijn", [
    "Mijn {buurman|vader} is erg eenzaam sinds {zijn vrouw is overleden|hij alleen woont}. Zijn er {activiteiten|een maatje-project} in de wijk?",
])
G("zorg-depressie", P, "zorg_en_welzijn", [
    "Door {mijn depressie|mijn burn-out|een psychose} {red ik het niet meer thuis|kom ik de deur niet uit}. Kan ik begeleiding krijgen?",
    "Ik sta {onder behandeling bij de GGZ|op een wachtlijst bij de psychiater} en heb hulp nodig bij {mijn administratie|het huishouden}.",
], special=["gezondheid"])
G("zorg-dementie", P, "zorg_en_welzijn", [
    "Mijn {moeder|schoonvader} heeft {beginnende dementie|alzheimer}. Welke hulp biedt de gemeente?",
], special=["gezondheid"])
G("zorg-vervoer", P, "zorg_en_welzijn", [
    "Hoe kom ik aan een pas voor {het regiotaxi|Wmo-vervoer|de deeltaxi}? Ik {zit in een rolstoel|ben slechtziend}.",
], special=["gezondheid"])
G("zorg-en", P, "zorg_en_welzijn", [
    "My {mother|father} {can no longer live alone|needs help at home}. Can the municipality provide home care?",
    "Is there support for informal carers in this municipality?",
], lang="en")
G("zorg-huiselijk", P, "zorg_en_welzijn", [
    "Ik {maak me zorgen om|hoor elke nacht geschreeuw bij} mijn {buren|buurvrouw}. Ik denk dat er {huiselijk geweld|iets mis} is. Waar kan ik dat melden?",
])
G("zorg-lang", P, "zorg_en_welzijn", [
    "Sinds mijn {herseninfarct|ongeluk|operatie} {wanneer} kan ik {mijn rechterarm niet gebruiken|niet meer zelfstandig douchen}. Mijn dochter helpt me, maar zij werkt fulltime. Ik heb {wanneer} een melding gedaan bij het Wmo-loket maar nog niemand gesproken. Het keukentje moet aangepast worden en ik heb hulp nodig bij de persoonlijke verzorging. Wanneer komt er iemand voor het keukentafelgesprek?",
], special=["gezondheid"], channels=("email",))

# --- werk en inkomen -------------------------------------------------------
G("wi-bijstand", P, "werk_en_inkomen", [
    "Ik ben {mijn baan kwijt|net gescheiden|uit de WW} en heb geen inkomen meer. Hoe vraag ik een bijstandsuitkering aan?",
    "Mijn {bijstand|uitkering} is {deze maand niet gestort|te laat|lager dan normaal}. {Wat is er aan de hand?|Ik kan de huur niet betalen.}",
])
G("wi-schulden", P, "werk_en_inkomen", [
    "Ik heb {schulden|betalingsachterstanden|deurwaarders aan de deur} en {weet niet meer wat ik moet doen|kom er niet meer uit}. Kan de gemeente helpen met schuldhulpverlening?",
])
G("wi-toeslag", P, "werk_en_inkomen", [
    "Kom ik in aanmerking voor {de energietoeslag|bijzondere bijstand|de individuele inkomenstoeslag}? Ik {heb een minimuminkomen|leef van AOW}.",
    "Wanneer wordt de {energietoeslag|inkomenstoeslag} uitbetaald?",
])
G("wi-reintegratie", P, "werk_en_inkomen", [
    "Mijn klantmanager wil dat ik {een re-integratietraject|vrijwilligerswerk|een sollicitatietraining} volg, maar ik {werk al parttime|zorg voor mijn kinderen}. Moet dat?",
])
G("wi-ziek", P, "werk_en_inkomen", [
    "Ik krijg bijstand maar {heb kanker|ben chronisch ziek|heb een hernia} en kan niet solliciteren. Kan ik ontheffing van de arbeidsplicht krijgen?",
], special=["gezondheid"])
G("wi-detentie", P, "werk_en_inkomen", [
    "Ik kom {volgende week|op {datum}} vrij uit {de gevangenis|detentie|de PI} en heb {geen inkomen|geen woning}. Kan ik een uitkering aanvragen?",
    "Na mijn {celstraf|veroordeling} vind ik geen werk. Helpt de gemeente mensen met een strafblad?",
], special=["strafrechtelijk"])
G("wi-wijziging", P, "werk_en_inkomen", [
    "Ik ga {samenwonen|parttime werken|verhuizen}. Moet ik dat doorgeven voor mijn uitkering?",
    "Ik heb {deze maand|in maart} {bedrag} bijverdiend. Hoe geef ik dat door?",
])
G("wi-en", P, "werk_en_inkomen", [
    "I lost my job and have no income. Can I apply for social assistance?",
    "My benefit payment has not arrived this month. What happened?",
], lang="en")
G("wi-sms", P, "werk_en_inkomen", [
    "uitkering nog nie binnen", "heb schulden help", "wanneer energietoeslag?",
], channels=("sms", "webchat"))

# --- openbare ruimte -------------------------------------------------------
G("or-lantaarn", P, "openbare_ruimte", [
    "De {lantaarnpaal|straatverlichting} voor {straat} {nr} {is kapot|brandt niet|knippert} {wanneer}.",
    "{Drie|Twee|Alle} lantaarnpalen {in de {straat}|op het {plein}} doen het niet. Het is {'s avonds|nu} {pikdonker|gevaarlijk}.",
])
G("or-stoep", P, "openbare_ruimte", [
    "Er {ligt|zit} {een losse stoeptegel|een groot gat in de weg|een verzakking in het fietspad} in de {straat}. {Mijn moeder is gestruikeld.|Iemand gaat zich bezeren.}",
])
G("or-boom", P, "openbare_ruimte", [
    "{Na de storm|Sinds gisteren} {hangt een grote tak|ligt een boom} {over de weg|op het fietspad} in de {straat}.",
    "De bomen in de {straat} {moeten gesnoeid worden|hangen over de stoep|geven veel overlast}.",
])
G("or-speeltuin", P, "openbare_ruimte", [
    "De {schommel|glijbaan|wip} in de speeltuin {aan de {straat}|bij het {plein}} is kapot. {Graag repareren.|Kinderen kunnen zich bezeren.}",
])
G("or-riool", P, "openbare_ruimte", [
    "Het riool {in de {straat}|voor ons huis} is verstopt; {bij elke bui|na de regen} staat de straat blank.",
    "De putten in de {straat} {stinken|lopen over}.",
])
G("or-hondenpoep", P, "openbare_ruimte", [
    "Het {grasveld|speelveld|park} {aan de {straat}|bij de school} ligt vol hondenpoep. Kan er {een bord|een afvalbak|handhaving} komen?",
])
G("or-graffiti", P, "openbare_ruimte", [
    "Er is {graffiti|bekladding} gespoten op {het bushokje|de geluidswal|het viaduct} bij de {straat}.",
])
G("or-gladheid", P, "openbare_ruimte", [
    "Er is {niet gestrooid|niet sneeuwvrij gemaakt} {op het fietspad|in de {straat}}, het is {spiegelglad|levensgevaarlijk}.",
])
G("or-herinrichting", P, "openbare_ruimte", [
    "Wanneer begint {de herinrichting van het {plein}|de reconstructie van de {straat}} en hoe lang {duurt de overlast|is de weg afgesloten}?",
    "Komen er {meer bankjes|extra fietsenrekken|meer groen} op het {plein} na de herinrichting?",
])
G("or-en", P, "openbare_ruimte", [
    "The street light in front of {straat} {nr} {is broken|has been out for a week}.",
    "There is a {big hole in the road|loose paving stone} on {straat}. Someone will get hurt.",
], lang="en")
G("or-sms", P, "openbare_ruimte", [
    "lamp kapot {straat} {nr}", "gat in fietspad {straat}", "boom omgevallen {straat}!!",
], channels=("sms", "webchat"))

# --- klachten --------------------------------------------------------------
G("kl-geen-antwoord", P, "klachten", [
    "Ik heb {wanneer} {twee keer|meerdere keren} gemaild en {nooit antwoord gekregen|nog steeds niets gehoord}. {Dit is echt slecht.|Ik wil een klacht indienen.}",
    "Ik dien hierbij een klacht in: op mijn brief van {datum} is {nooit gereageerd|geen reactie gekomen}.",
])
G("kl-onbeleefd", P, "klachten", [
    "De medewerker {aan de balie|aan de telefoon} was {ontzettend onbeleefd|bot|neerbuigend} tegen mij {wanneer}. Ik wil hierover een klacht indienen.",
    "Ik ben {heel slecht|onheus} behandeld door {een handhaver|een boa|uw medewerker} en wil een klacht indienen.",
])
G("kl-procedure", P, "klachten", [
    "Hoe werkt de klachtenprocedure van de gemeente? Ik ben niet tevreden over {de afhandeling van mijn melding|de behandeling van mijn aanvraag}.",
    "Ik ben het niet eens met de afhandeling van mijn klacht {zaak}. Kan ik naar de {ombudsman|Nationale ombudsman}?",
])
G("kl-discriminatie", P, "klachten", [
    "Ik voel me {gediscrimineerd|anders behandeld} {omdat ik Marokkaans ben|vanwege mijn afkomst|omdat ik een hoofddoek draag} door {een medewerker|de baliemedewerker}. Ik dien een klacht in.",
], special=["etniciteit", "religie"])
G("kl-afspraak", P, "klachten", [
    "Mijn afspraak {van vanochtend|op {datum}} werd {zonder bericht|op het laatste moment} afgezegd. {Ik had vrij genomen!|Dit is al de tweede keer.}",
])
G("kl-en", P, "klachten", [
    "I want to file a complaint. {Nobody has answered my emails for weeks.|The staff member at the desk was very rude to me.}",
], lang="en")
G("kl-lang", P, "klachten", [
    "Hierbij dien ik een formele klacht in over de manier waarop mijn {melding|aanvraag|bezwaar} is behandeld. Ik heb op {datum} contact opgenomen, ben {drie keer|vier keer} doorverbonden en telkens werd beloofd dat ik teruggebeld zou worden. Dat is nooit gebeurd. Toen ik {wanneer} aan de balie kwam, werd ik afgescheept. Ik verwacht excuses en een duidelijke reactie binnen de wettelijke termijn.",
], channels=("email",))
G("kl-sms", P, "klachten", [
    "nooit antwoord van jullie, klacht!!", "wil klacht indienen over medewerker", "waarom belt niemand terug",
], channels=("sms", "webchat"))

# --- overig (public task) --------------------------------------------------
G("ov-openingstijden", P, "overig", [
    "{Hoe laat|Wanneer} is het {gemeentehuis|stadhuis|stadskantoor} {open|geopend} {op zaterdag|tijdens de feestdagen|morgen}?",
    "Is het gemeentehuis {op Koningsdag|tweede paasdag|op 5 mei} gesloten?",
])
G("ov-contact", P, "overig", [
    "Met wie kan ik het beste contact opnemen over {een idee voor de wijk|een subsidie voor onze vereniging|vrijwilligerswerk}?",
    "Wat is het {telefoonnummer|e-mailadres} van {de wijkagent|de wijkcoördinator|het wijkteam}?",
])
G("ov-subsidie", P, "overig", [
    "Onze {voetbalvereniging|buurtvereniging|stichting} wil subsidie aanvragen voor {een buurtfeest|nieuwe materialen|een project}. Hoe werkt dat?",
])
G("ov-raad", P, "overig", [
    "Wanneer is de volgende {raadsvergadering|commissievergadering} en kan ik {inspreken|die online volgen}?",
    "Mag ik als inwoner inspreken bij de gemeenteraad over {project}?",
])
G("ov-beleid-vraag", P, "overig", [
    "Wat is het beleid van de gemeente over {zonnepanelen op monumenten|deelscooters|vuurwerk|Airbnb-verhuur}?",
    "Komt er een {vuurwerkverbod|autovrije zondag|verbod op deelscooters} in de gemeente?",
])
G("ov-en", P, "overig", [
    "What are the opening hours of the town hall {on Saturday|during the holidays}?",
    "Who can I contact about a {neighbourhood initiative|subsidy for our club}?",
], lang="en")
G("ov-bedankt", P, "overig", [
    "{Dank jullie wel|Bedankt|Top} voor {de snelle hulp|het snelle antwoord|het oplossen}! {Fijne dag.|Groetjes.}",
    "ok {dank je|bedankt|top}, {dan wacht ik af|ik hoor het wel}",
], channels=("webchat", "sms"))
G("ov-sms", P, "overig", [
    "open morgen?", "hoe bereik ik wijkteam", "wanneer raadsvergadering",
], channels=("sms", "webchat"))

# --- hard: information questions that are not Woo requests -----------------
G("hard-info-bestemmingsplan", P, "vergunningen", [
    "Waar kan ik het bestemmingsplan voor {straat} inzien?",
    "Is het bestemmingsplan {Centrum|voor de {straat}} al vastgesteld? Waar staat het online?",
], hard="info_niet_woo")
G("hard-info-hoe-woo", P, "overig", [
    "Hoe dien ik een Woo-verzoek in bij jullie gemeente?",
    "{Wat is de Woo precies|Wat is een Woo-verzoek} en hoe lang duurt de behandeling?",
    "Hoe lang heeft de gemeente om een Wob-verzoek te beantwoorden?",
], hard="info_niet_woo")
G("hard-info-woo-status", P, "overig", [
    "Ik heb op {datum} een Woo-verzoek ingediend ({zaak}). Wanneer krijg ik een besluit?",
    "Wat is de stand van zaken van mijn Woo-verzoek {zaak}? De termijn is {bijna|al} verstreken.",
], hard="info_niet_woo")
G("hard-info-raadsstukken", P, "overig", [
    "Waar vind ik de agenda van de raadsvergadering van {datum}?",
    "Staan de notulen van de raadsvergadering van {datum} al online?",
], hard="info_niet_woo")
G("hard-info-formulier", P, "werk_en_inkomen", [
    "Kunt u mij het aanvraagformulier voor {bijzondere bijstand|de energietoeslag|kwijtschelding} {sturen|mailen}?",
    "Waar kan ik het formulier {voor de inkomenstoeslag|voor schuldhulp} downloaden?",
], hard="info_niet_woo")
G("hard-info-avg-inzage", P, "burgerzaken", [
    "Ik wil {inzage in|een kopie van} {mijn eigen persoonsgegevens|de gegevens die de gemeente over mij heeft|mijn dossier} op grond van de AVG.",
    "Welke gegevens heeft de gemeente over mij opgeslagen? Ik wil een inzageverzoek doen.",
], hard="info_niet_woo")
G("hard-info-wanneer-besluit", P, "openbare_ruimte", [
    "Wanneer neemt {het college|de raad} een besluit over {project}?",
    "Kunt u uitleggen waarom {de bomen aan de {straat} gekapt worden|de {straat} wordt afgesloten}?",
], hard="info_niet_woo")
G("hard-info-en", P, "overig", [
    "How do I submit a freedom of information request to the municipality?",
    "When will the council decide on {project_en}?",
], lang="en", hard="info_niet_woo")
G("hard-info-kopie-eigen", P, "belastingen", [
    "Kunt u mij een kopie sturen van {mijn aanslag|mijn WOZ-beschikking|de brief over mijn aanslag}? Ik ben hem kwijt.",
], hard="info_niet_woo")
G("hard-info-taxatie", P, "belastingen", [
    "Kan ik het taxatieverslag van mijn woning {opvragen|inzien}? Ik wil bezwaar maken tegen de WOZ.",
], hard="info_niet_woo")

# --- Woo requests (explicit) -----------------------------------------------
WOO_SUBJECT_TOPIC = [
    ("de herinrichting van het {plein}", "openbare_ruimte"),
    ("de bomenkap aan de {straat}", "openbare_ruimte"),
    ("de aanbesteding van het afvalcontract", "afval"),
    ("de invoering van diftar en de afvaltarieven", "afval"),
    ("het parkeerbeleid in de binnenstad", "parkeren"),
    ("de invoering van betaald parkeren in de {straat}", "parkeren"),
    ("de omgevingsvergunning voor {straat} {nr}", "vergunningen"),
    ("de evenementenvergunning voor het festival op het {plein}", "vergunningen"),
    ("de verhoging van de OZB", "belastingen"),
    ("de inning van de toeristenbelasting", "belastingen"),
    ("de nieuwe werkwijze van het Wmo-loket", "zorg_en_welzijn"),
    ("de inkoop van jeugdzorg", "zorg_en_welzijn"),
    ("de fraudeaanpak bij de bijstand", "werk_en_inkomen"),
    ("het re-integratiebeleid", "werk_en_inkomen"),
    ("de sluiting van de balie burgerzaken in {straat}", "burgerzaken"),
    ("de afhandeling van klachten over de buitendienst", "klachten"),
    ("de verkoop van het oude raadhuis", "overig"),
    ("de opvanglocatie aan de Zuidsingel", "overig"),
]

WOO_SUBJECT_TOPIC_EN = [
    ("the redevelopment of the {plein}", "openbare_ruimte"), ("the tree felling on {straat}", "openbare_ruimte"),
    ("the waste collection contract", "afval"), ("paid parking in the city centre", "parkeren"),
    ("the building permit for {straat} {nr}", "vergunningen"), ("the increase of the property tax", "belastingen"),
    ("the purchase of youth care", "zorg_en_welzijn"), ("the fraud policy for welfare benefits", "werk_en_inkomen"),
]


def woo_groups(prefix, templates, n_subjects=18, hard=None, lang="nl", channels=("webchat", "email", "sms"), n=4):
    woo = not prefix.startswith("niet-woo")  # families of look-alikes that are no request
    # One group per (phrasing family, subject): the subject decides the topic.
    subjects = WOO_SUBJECT_TOPIC_EN if lang == "en" else WOO_SUBJECT_TOPIC
    for i, (subj, topic) in enumerate(subjects[:n_subjects]):
        ts = [t.replace("[SUBJ]", subj) for t in templates]
        G(f"{prefix}-{i:02d}", P, topic, ts, woo=woo, hard=hard, lang=lang, channels=channels, n=n,
          family=prefix)


woo_groups("woo-expliciet", [
    "Graag ontvang ik op grond van de {Woo|Wet open overheid} alle {stukken|documenten|informatie} over [SUBJ].",
    "Hierbij {doe|dien} ik een {Woo-verzoek|verzoek op grond van de Woo|verzoek op grond van de Wet open overheid} {in |}over [SUBJ]. Ik verzoek u alle {documenten|stukken, e-mails en notities} openbaar te maken.",
    "Op grond van artikel 4.1 van de Woo verzoek ik u om openbaarmaking van {alle documenten|de correspondentie|de besluitvorming} over [SUBJ] {vanaf 2024|van de afgelopen twee jaar|sinds {datum}}.",
], n=3)
woo_groups("woo-wob", [
    "{Ik doe|Bij deze doe ik} een {Wob-verzoek|beroep op de Wob} voor alle {stukken|documenten} over [SUBJ].",
    "Wob-verzoek: graag {alle stukken|alle interne memo's|het volledige dossier} over [SUBJ].",
], n_subjects=10, n=3)
woo_groups("woo-impliciet-stukken", [
    "Ik wil graag alle {e-mails|stukken|documenten|notulen en verslagen} {ontvangen|inzien} die {de gemeente|het college|de wethouder} heeft over [SUBJ].",
    "Kunt u mij {alle|een kopie van alle} {interne correspondentie|verslagen van overleggen|adviezen en rapporten} over [SUBJ] {toesturen|sturen}?",
    "Ik verzoek u mij de {onderliggende stukken|documenten waarop het besluit is gebaseerd|rapporten en adviezen} over [SUBJ] te verstrekken.",
], hard="woo_zonder_woo", n=3)
woo_groups("woo-impliciet-correspondentie", [
    "Graag ontvang ik de correspondentie tussen {de gemeente|het college|de wethouder} en {partij} over [SUBJ].",
    "Ik wil {inzage in|een kopie van} alle {e-mails, appjes en brieven|berichten, inclusief WhatsApp-berichten,} {tussen de wethouder en {partij}|van ambtenaren} over [SUBJ].",
], n_subjects=14, hard="woo_zonder_woo", n=3)
woo_groups("woo-klacht-met-stukken", [
    "Ik ben {woedend|het er totaal niet mee eens|heel boos} over [SUBJ]. {Niemand heeft ons iets gevraagd.|Dit is over onze hoofden heen beslist.} Ik wil alle {stukken|documenten en e-mails} zien waarop dit besluit is gebaseerd.",
    "Schandalig hoe {de gemeente|het college} met [SUBJ] omgaat. Stuur mij {alle|de} {verslagen, adviezen en interne e-mails|stukken} hierover, ik wil weten wie dit besloten heeft.",
], n_subjects=12, hard="klacht_vraagt_stukken", n=3)
woo_groups("woo-en", [
    "{Under the Woo|Under the Dutch Open Government Act|As a freedom of information request} I request all documents about [SUBJ].",
    "I would like to receive all {emails|internal documents|reports and correspondence} {of the municipality|of the council} regarding [SUBJ].",
], n_subjects=8, lang="en", channels=("email", "webchat"), n=3)
woo_groups("woo-en-2", [
    "{Please send me|Could you provide me with} {copies of all|all} {documents, minutes and emails|records and internal memos} {about|concerning} [SUBJ], {as a freedom of information request|under the Open Government Act|from 2024 onwards}.",
    "I am a journalist and request disclosure of all {correspondence|communication} between {the mayor|the alderman|the municipality} and {partij} about [SUBJ].",
], n_subjects=8, lang="en", channels=("email", "webchat"), n=3)
woo_groups("woo-en-3", [
    "{Hello|Hi}, {can|could} you {send|forward} me all {emails|documents|messages} the {municipality|council|alderman} {sent or received|has} about [SUBJ]?",
    "I want to see all {internal documents|the reports and emails} {behind|on} [SUBJ]. {Please send them to me.|Please share them digitally.}",
], n_subjects=8, lang="en", channels=("email", "webchat", "sms"), n=3)
woo_groups("woo-en-4", [
    "Request for {information|documents}: {all|any} {records|correspondence|minutes} {regarding|on} [SUBJ] {since 2024|from the last two years}.",
    "{I'd like|I wish} to obtain {copies of the|the} {advice, memos and emails|documents and correspondence} {relating to|about} [SUBJ].",
], n_subjects=8, lang="en", channels=("email", "webchat"), n=3)
woo_groups("niet-woo-en", [
    "{When|Where} can I {find information|read more} about [SUBJ]?",
    "I think [SUBJ] is {a bad idea|great}. {Who decides on this?|When will it start?}",
], n_subjects=8, lang="en", channels=("email", "webchat"), hard="info_niet_woo", n=2)
woo_groups("niet-woo-onderwerp", [
    "{Wanneer is er een informatieavond|Komt er een bewonersavond} over [SUBJ]?",
    "Ik vind [SUBJ] {een slecht idee|echt een goede zaak|zonde van het geld}. {Wie kan ik daarover spreken?|Neem dit mee in de besluitvorming.}",
    "Hoe kan ik {reageren op|een zienswijze geven over|meepraten over} [SUBJ]?",
], hard="info_niet_woo", n=2)
woo_groups("niet-woo-onderwerp-2", [
    "Staat er op de website al iets over [SUBJ]? Ik kan het niet vinden.",
    "Wat is de planning van [SUBJ]? {Hoe lang gaat het duren?|Wanneer beginnen de werkzaamheden?}",
], hard="info_niet_woo", n=2)
woo_groups("woo-lang", [
    "Op {datum} {las ik in de krant|hoorde ik op de informatieavond} dat {de gemeente|het college} {heeft besloten over|plannen heeft voor} [SUBJ]. Als bewoner van de {straat} wil ik weten hoe dit besluit tot stand is gekomen. Ik verzoek u daarom om {openbaarmaking van|toezending van} alle documenten hierover: {collegeadviezen, interne e-mails, verslagen van overleggen met {partij} en rapporten|adviezen, notities, e-mails en chatberichten}, {vanaf 1 januari 2025|van de afgelopen drie jaar}. Digitale toezending heeft mijn voorkeur.",
], n_subjects=18, channels=("email",), n=2)
woo_groups("woo-sms", [
    "woo verzoek: alle stukken over [SUBJ] aub", "wil alle mails over [SUBJ] van de gemeente ontvangen",
], n_subjects=8, channels=("sms", "webchat"), n=3)

# --- personal --------------------------------------------------------------
G("pers-afspraak", PERS, "overig", [
    "{Hoi|Hey|Hee} {voornaam}, {zin in koffie|gaan we vanavond nog sporten|lunchen we morgen samen}?",
    "{Hey|Hoi} ben er om {tijd}, {zie je straks|tot zo}!",
])
G("pers-familie", PERS, "overig", [
    "{Mam|Pap|Schat}, {ik ben wat later thuis|vergeet je de boodschappen niet|kun je de kinderen ophalen}? {xx|Liefs}",
    "Hoi lieverd, {het eten staat in de oven|ik heb de hond al uitgelaten|opa belde nog}. {Kus|xx}",
], channels=("sms", "webchat"))
G("pers-verjaardag", PERS, "overig", [
    "{Gefeliciteerd|Van harte} met je verjaardag {voornaam}! {Maak er een mooie dag van.|Tot zaterdag op het feest!}",
    "Hoera, {je bent geslaagd|jullie zijn getrouwd|de baby is er}! {Super trots op je.|Gefeliciteerd!}",
])
G("pers-verkeerd", PERS, "overig", [
    "Sorry, {verkeerd nummer|verkeerde chat|dit was niet voor jullie bedoeld}.",
    "Oeps, dat bericht was voor mijn {zus|vriend|collega}, negeer maar.",
], channels=("sms", "webchat"))
G("pers-weekend", PERS, "overig", [
    "Hoe was je weekend? Wij zijn {naar het strand geweest|wezen kamperen|bij mijn schoonouders geweest}, {heerlijk|was gezellig}.",
    "Heb je {die serie|de wedstrijd|het nieuwe album} al gezien? {Echt goed!|Wat een finale!}",
])
G("pers-gemeentehuis-ophalen", PERS, "overig", [
    "Ik zit nog {bij het gemeentehuis|op het stadhuis|in de wachtruimte bij de gemeente} te wachten, kun je me {zo ophalen|om {tijd} ophalen}?",
    "{Schat|Hey}, ik sta {voor het gemeentehuis|bij de gemeente op het plein}, waar ben je?",
], hard="persoonlijk_met_gemeente", channels=("sms", "webchat"))
G("pers-gemeente-werk", PERS, "overig", [
    "Haha mijn {broer|schoonzus|buurman} werkt ook bij de gemeente, {kleine wereld|grappig}!",
    "Leuk je gisteren {weer |}te zien op {de borrel|het afscheid van Ans} op het stadhuis. {Was gezellig!|Volgende keer weer.}",
], hard="persoonlijk_met_gemeente")
G("pers-gemeente-feest", PERS, "overig", [
    "Lieve {voornaam}, bedankt voor {het leuke afscheidsfeestje|de mooie bloemen|je kaartje}! Ik ga de collega's van de gemeente missen.",
    "Zaterdag {barbecue|bbq} bij ons, {neem je partner mee|jij komt toch ook}? Het hele team van {de balie|burgerzaken} komt.",
], hard="persoonlijk_met_gemeente")
G("pers-en", PERS, "overig", [
    "{Hey|Hi}, running {late|10 minutes late}, see you at {tijd}!",
    "Happy birthday {voornaam}! Have a great day.",
    "Did you watch the game last night? Crazy ending.",
], lang="en", channels=("sms", "webchat"))
G("pers-emoji", PERS, "overig", [
    "😂😂 {echt|serieus}?", "haha ja {precies|klopt}", "{lol|hahaha} dat meen je niet", "{goedenacht|slaap lekker} xx",
], channels=("sms", "webchat"))
G("pers-ziek-vriend", PERS, "overig", [
    "Hoe gaat het nu met je {rug|knie}? {Beterschap!|Sterkte met het herstel.}",
    "{Sterkte|Veel sterkte} {voornaam}, ik denk aan je. Laat maar weten als ik {iets kan doen|boodschappen moet doen}.",
], special=["gezondheid"])
G("pers-kerk", PERS, "overig", [
    "Zien we je zondag in de kerk? {Daarna koffie bij ons?|Neem je de kinderen mee?}",
    "Fijne ramadan {voornaam}! Kom je vrijdag eten bij ons voor de iftar?",
], special=["religie"])
G("pers-lang", PERS, "overig", [
    "Hoi {voornaam},\n\nLang niet gesproken! Hoe gaat het met jullie? Wij zijn {wanneer} verhuisd naar de {straat}, het huis is nog een bouwput maar we zijn er blij mee. De kinderen hebben het goed op hun nieuwe school. Kom je een keer langs? Dan maken we er een gezellige avond van.\n\nLiefs,\n{voornaam}",
], channels=("email",))


G("pers-boodschappen", PERS, "overig", [
    "Kun je {melk|brood en kaas|eieren} meenemen {op weg naar huis|straks}? {We hebben niks meer.|Dank je!}",
    "Ik sta in de {Albert Heijn|Jumbo|Lidl}, moet ik nog iets {halen|meenemen}?",
], channels=("sms", "webchat"))
G("pers-sport", PERS, "overig", [
    "Training gaat {vanavond|donderdag} niet door, {de velden zijn afgekeurd|de trainer is ziek}. {Zaterdag gewoon spelen.|Zie je zaterdag.}",
    "Wie rijdt er zaterdag naar de uitwedstrijd in {Zwolle|Almere|Tilburg}? Ik kan {drie|vier} kinderen meenemen.",
])
G("pers-vakantie", PERS, "overig", [
    "Groetjes uit {Spanje|Frankrijk|Italië|Texel}! {Het is hier 30 graden.|Wat een heerlijk weer.} {Tot volgende week!|Liefs van ons allemaal.}",
    "We zijn {veilig geland|aangekomen op de camping|net in het hotel}, {alles goed|morgen bellen we}.",
])
G("pers-dieren", PERS, "overig", [
    "{De kat|Onze hond|Het konijn} heeft {weer een muis gevangen|de bank gesloopt|puppy's gekregen} 😂",
    "Wil jij {dit weekend|volgende week} op {de kat|de hond} passen? We zijn {weg|op vakantie}.",
], channels=("sms", "webchat"))
G("pers-eten", PERS, "overig", [
    "Wat eten we {vanavond|morgen}? Ik heb zin in {pizza|sushi|pannenkoeken}.",
    "Het recept van die {lasagne|appeltaart|soep} van gisteren, wil je dat {sturen|appen}?",
], channels=("sms", "webchat"))
G("pers-oppas", PERS, "overig", [
    "Kan {voornaam} {vrijdagavond|zaterdag} oppassen? We gaan {uit eten|naar een feestje}.",
    "De kinderen liggen {op bed|te slapen}, {alles rustig|ze waren lief}. Hoe laat zijn jullie thuis?",
])
G("pers-werk-prive", PERS, "overig", [
    "Ik meld me morgen ziek bij mijn baas, {ik ben gebroken|te moe}. Ga jij wel naar {de verjaardag|het feest}?",
    "Mijn nieuwe {collega's|baas} zijn echt {top|leuk}, eindelijk een baan waar ik blij van word!",
])
G("pers-huis", PERS, "overig", [
    "Onze {keuken|badkamer} is eindelijk klaar, {kom je kijken?|foto's komen eraan!}",
    "De {loodgieter|schilder|elektricien} komt {morgen|donderdag} om {tijd}, ben jij thuis om open te doen?",
])
G("pers-muziek", PERS, "overig", [
    "Gaan we naar {het concert|het festival|de voorstelling} in {Ahoy|de Ziggo Dome|het theater}? Kaartjes zijn nog te koop.",
    "Luister {deze|dit nummer} eens, {echt goed|zo mooi}: {spotify link|die van gisteren}",
], channels=("sms", "webchat"))
G("pers-dank-prive", PERS, "overig", [
    "Bedankt voor {het lekkere eten|de gezellige avond|de hulp met verhuizen} gisteren! {Volgende keer bij ons.|Je bent een topper.}",
    "Dank je wel voor {het cadeau|de bloemen|de kaart}, {echt lief van je|heel attent}!",
])
G("pers-gemeente-stemmen", PERS, "overig", [
    "Ga jij {woensdag|morgen} stemmen? Zullen we samen naar het stembureau in het gemeentehuis lopen en daarna koffie?",
    "Ik zag je {vader|zus} vandaag bij de gemeente, {de groeten|leuk}! Hoe is het met hem?",
], hard="persoonlijk_met_gemeente")
G("pers-gemeente-parkeren", PERS, "overig", [
    "Ik parkeer {wel even|maar} bij het stadhuis, dan lopen we samen naar {de markt|het café|de film}.",
    "Zullen we afspreken bij {het gemeentehuis|de fontein op het {plein}} om {tijd}?",
], hard="persoonlijk_met_gemeente", channels=("sms", "webchat"))
G("pers-gemeente-collega", PERS, "overig", [
    "Hoi {voornaam}, {ik ben jarig|ik trakteer} morgen op de afdeling, {neem je trek mee|jij lust toch ook taart}? 🎂",
    "Zin om na het werk op het gemeentehuis nog {een biertje te doen|te gaan eten}?",
], hard="persoonlijk_met_gemeente")
G("pers-en-2", PERS, "overig", [
    "{Dinner|Drinks} at our place on {Friday|Saturday}? Bring {the kids|a bottle of wine}.",
    "Thanks for {the lovely evening|helping us move}! {Let's do it again soon.|You're the best.}",
    "Can you pick me up from the {station|airport} at {tijd}?",
], lang="en")
G("pers-lang-2", PERS, "overig", [
    "Lieve {voornaam},\n\nWat fijn dat we elkaar {vorige week|laatst} weer zagen na al die jaren. Ik moest nog lang lachen om de verhalen over {de schoolreis|ons studentenhuis|die camping in Frankrijk}. Zullen we {een datum prikken|in het voorjaar afspreken} voor een weekendje weg met de hele groep? Ik heb {een leuk huisje|een mooi adres} gevonden in {de Ardennen|Drenthe}.\n\nDikke knuffel,\n{voornaam}",
], channels=("email",))
G("pers-sms-kort", PERS, "overig", [
    "ok", "top!", "ben onderweg", "bel je zo", "wrm neem je nie op", "kom je eten?", "ja is goed", "ff bellen?",
], channels=("sms", "webchat"), n=8)

# --- spam ------------------------------------------------------------------
G("spam-prijs", SPAM, "overig", [
    "{Gefeliciteerd|Proficiat}! U heeft {een iPhone 16|€ 1.000|een cadeaubon} gewonnen. Klik {hier|op de link} om uw prijs te claimen: http://{win-nu|gratis-prijs|bonus}.{xyz|top|click}/{claim|ab12}",
    "U bent {geselecteerd|uitgekozen} voor een {exclusieve|gratis} beloning. Bevestig binnen 24 uur!",
])
G("spam-pakket", SPAM, "overig", [
    "{PostNL|DHL|Uw pakketdienst}: uw pakket kon niet worden bezorgd. Betaal {€ 1,99|€ 2,50} verzendkosten via http://{postnl-track|dhl-bezorging}.{info|shop}/pay",
    "Uw zending staat klaar. Bevestig uw adres: http://pakket-{status|track}.{com|xyz}",
], channels=("sms", "email"))
G("spam-bank", SPAM, "overig", [
    "Uw {bankpas|rekening} {verloopt|wordt geblokkeerd}. Vernieuw {direct|vandaag} via {deze link|http://ing-veilig.{top|info}}.",
    "Beste klant, er is een verdachte betaling op uw rekening. Log in om te bevestigen: http://{rabo|abn}-check.{online|click}",
])
G("spam-seo", SPAM, "overig", [
    "Beste webmaster, wij bieden {linkbuilding|SEO-diensten|gastblogs} voor uw website {gemeente.nl|}. Vanaf {€ 49|€ 99} per maand naar pagina 1 in Google!",
    "Wilt u meer bezoekers? Wij zorgen voor {top 3 posities|10x meer verkeer}. Reageer voor een gratis analyse.",
], channels=("email", "webchat"))
G("spam-crypto", SPAM, "overig", [
    "Verdien {€ 500|€ 3.000} per {dag|week} vanuit huis met {bitcoin|crypto trading|ons geheime systeem}! {Schrijf je nu in|Beperkte plaatsen}: http://{rijk-snel|crypto-win}.{biz|io}",
    "INVESTEER NU in {Bitcoin|ons nieuwe token} en verdubbel je geld binnen {een week|30 dagen}!!!",
])
G("spam-en", SPAM, "overig", [
    "Dear Sir, I am a {barrister|bank manager} and I have a business proposal of {$ 4.5 million|USD 12,000,000} for you. Reply with your {details|bank details}.",
    "Your mailbox is {full|about to expire}. Click here to {verify|upgrade} your account: http://mail-{verify|upgrade}.{com|net}",
    "Hot singles in your area want to meet you! Click now.",
    "Congratulations, you have been selected for a free {cruise|gift card}. Claim now!",
], lang="en", channels=("email", "webchat"))
G("spam-leverancier", SPAM, "overig", [
    "Speciaal voor gemeenten: {onze AI-chatbot|ons nieuwe zaaksysteem|onze drone-inspecties} bespaart {40%|tot 60%} op uw kosten. Plan vandaag nog een demo!",
    "Geachte gemeente, wij leveren {goedkope printerinkt|kantoorstoelen met 70% korting|LED-verlichting} aan overheden. Bestel voor vrijdag en ontvang {gratis verzending|een cadeau}.",
], channels=("email",), hard="spam_noemt_gemeente")
G("spam-nonsense", SPAM, "overig", [
    "{asdfgh|test test 123|aaaaaaa|jkjkjk}", "{qwerty|xyz xyz|....|ppppp}", "{BUY NOW|CHEAP PILLS|FREE MONEY} {http://x.co|!!!}",
], channels=("webchat", "sms"))
G("spam-dating", SPAM, "overig", [
    "{Hoi schatje|Hey knapperd}, ik zag je profiel. Ik ben {Lisa|Jessica}, 24 jaar en zoek een date. Kijk mijn foto's op http://{date-nu|flirt}.{xyz|top}",
], channels=("sms", "webchat"))


G("spam-lening", SPAM, "overig", [
    "{Snel geld nodig|Direct geld op je rekening}? Leen tot {€ 5.000|€ 25.000} zonder BKR-toets! Aanvragen: http://{snel-lenen|geld-direct}.{nl-info|click}",
    "Lening goedgekeurd! Uw {€ 10.000|€ 7.500} staat klaar. Bevestig met uw IBAN.",
])
G("spam-belastingdienst", SPAM, "overig", [
    "Belastingdienst: u heeft recht op een teruggave van {€ 312,40|€ 187,95}. Vul uw gegevens in via http://{belasting-teruggave|mijn-teruggave}.{info|com}",
    "Laatste herinnering: uw {naheffing|openstaande aanslag} moet vandaag betaald worden, anders volgt beslag. Betaal via {deze link|http://betaal-nu.top}.",
], channels=("sms", "email"))
G("spam-digid", SPAM, "overig", [
    "Uw DigiD {verloopt vandaag|wordt gedeactiveerd}. Verleng direct via http://digid-{verlengen|activeren}.{info|site}",
    "DigiD-melding: verifieer uw account binnen 24 uur om blokkade te voorkomen.",
], channels=("sms", "email"), hard="spam_noemt_gemeente")
G("spam-whatsapp-mam", SPAM, "overig", [
    "Hoi mam, dit is mijn nieuwe nummer. Mijn telefoon is kapot. Kun je {een rekening|iets} voor me betalen? Ik betaal het morgen terug.",
    "Hey pap, nieuw nummer! Kan je {€ 480|€ 950} overmaken? Het is dringend, leg ik later uit.",
], channels=("sms", "webchat"))
G("spam-webshop", SPAM, "overig", [
    "{MEGA SALE|BLACK FRIDAY|UITVERKOOP}: {sneakers|zonnebrillen|horloges} tot {80%|90%} korting! Alleen vandaag op http://{mega-deals|outlet-nu}.{shop|store}",
    "Gratis {iPhone|PlayStation|stofzuiger} bij je bestelling! Op = op.",
])
G("spam-energie", SPAM, "overig", [
    "Bespaar {€ 600|€ 900} per jaar op uw energierekening! Stap nu over en ontvang {€ 200 welkomstbonus|een gratis slimme thermostaat}.",
    "Zonnepanelen {gratis|zonder investering}! Reageer voor {vrijdag|eind van de maand} en profiteer.",
], channels=("email", "sms"))
G("spam-enquete", SPAM, "overig", [
    "Doe mee aan onze {enquête|korte vragenlijst} en win {een cadeaukaart van € 500|een weekendje weg}! http://{survey-win|enquete-prijs}.{online|top}",
])
G("spam-en-2", SPAM, "overig", [
    "Earn {$ 5,000|$ 900} a week working from home. No experience needed. Sign up today!",
    "URGENT: your account will be suspended. Verify your identity now at http://secure-{login|verify}.{net|co}",
    "Buy {cheap meds|replica watches|followers} online, {fast shipping|best prices}!!!",
    "We are a leading {SEO|web design|app development} agency. Can we send you our portfolio?",
], lang="en", channels=("email", "webchat"))
G("spam-leverancier-2", SPAM, "overig", [
    "Geachte inkoper, wij bieden {schoonmaakdiensten|beveiligingscamera's|mondkapjes} tegen scherpe prijzen. Vraag vandaag nog een offerte aan.",
    "Uitnodiging webinar: '{De gemeente van de toekomst|Slimme steden|AI voor overheden}' - meld u gratis aan via onze website!",
], channels=("email",), hard="spam_noemt_gemeente")
G("spam-casino", SPAM, "overig", [
    "{Online casino|Gokken}: {100 gratis spins|€ 200 bonus} bij je eerste storting! Speel nu op http://{lucky|casino}-{win|nl}.{bet|xyz}",
])
G("spam-gewonnen-loterij", SPAM, "overig", [
    "Uw {telefoonnummer|e-mailadres} is getrokken in de {Europese|Internationale} Loterij. U wint {€ 850.000|€ 1.250.000}. Stuur uw gegevens naar de notaris.",
])
G("spam-links", SPAM, "overig", [
    "http://{bit.ly|t.co|tinyurl.com}/{x8Ka2|9fjs|promo}", "klik hier >> http://{gratis|free}.{xyz|top}", "www.{win|bonus}-{nu|vandaag}.com",
], channels=("sms", "webchat"))

# --- clerks' answers (outbound) --------------------------------------------
CLERK = [
    ("afval", ["Bedankt voor uw melding over de {container|kliko}. We hebben de inzamelaar gevraagd {morgen|deze week} alsnog langs te komen.",
               "Grofvuil ophalen kan op afspraak. U kunt een afspraak maken via de website of de afvalapp; de eerste {vier|drie} keer per jaar is gratis."]),
    ("parkeren", ["Uw parkeervergunning is gewijzigd naar kenteken {kenteken}. De wijziging gaat {direct|morgen} in.",
                  "U kunt binnen zes weken bezwaar maken tegen de naheffingsaanslag. Stuur uw bezwaar met een kopie van het betaalbewijs."]),
    ("vergunningen", ["Voor een dakkapel aan de achterkant heeft u meestal geen vergunning nodig. Doe de vergunningcheck in het Omgevingsloket om zeker te zijn.",
                      "Uw aanvraag {zaak} is in behandeling. U krijgt uiterlijk {datum} een besluit."]),
    ("belastingen", ["Een betalingsregeling is mogelijk: u kunt de aanslag in {tien|acht} termijnen betalen via automatische incasso.",
                     "Uw bezwaar tegen de WOZ-waarde hebben we ontvangen onder nummer {zaak}. U ontvangt binnen {zes|acht} weken een uitspraak."]),
    ("burgerzaken", ["U kunt een afspraak maken voor een paspoort via de website. Neem uw oude paspoort en een pasfoto mee.",
                     "Uw verhuizing is verwerkt. U staat vanaf {datum} ingeschreven op {straat} {nr}."]),
    ("zorg_en_welzijn", ["Een consulent van het Wmo-loket neemt binnen {vijf|tien} werkdagen contact met u op voor een gesprek.",
                         "Voor mantelzorgers is er ondersteuning via het steunpunt mantelzorg. Zal ik u aanmelden?"]),
    ("werk_en_inkomen", ["Uw uitkering wordt {morgen|vrijdag} alsnog uitbetaald. Excuses voor het ongemak.",
                         "U kunt de bijstandsuitkering aanvragen via werk.nl en daarna uw gegevens aanvullen bij de gemeente."]),
    ("openbare_ruimte", ["Bedankt voor uw melding over de {lantaarnpaal|stoeptegel|boom}. De buitendienst komt {binnen vijf werkdagen|deze week} kijken.",
                         "De melding over {straat} is opgelost. Wilt u ons laten weten als het probleem terugkomt?"]),
    ("klachten", ["Uw klacht is ontvangen. Een klachtbehandelaar neemt binnen {twee|drie} weken contact met u op.",
                  "Het spijt ons dat u zich zo behandeld voelde. We bespreken uw klacht met de medewerker en komen bij u terug."]),
    ("overig", ["Het gemeentehuis is op zaterdag gesloten. Op werkdagen zijn we open van 8.30 tot 17.00 uur.",
                "Inspreken bij de raad kan: meld u uiterlijk 24 uur voor de vergadering aan bij de griffie."]),
]
for topic, templates in CLERK:
    G(f"klerk-{topic}", P, topic, [t + "\n\n" + rng.choice(CLERK_SIGN) for t in templates],
      direction="outbound", channels=("webchat", "email"), n=8)
G("klerk-woo-ontvangst", P, "overig", [
    "Wij hebben uw Woo-verzoek ontvangen op {datum} onder nummer WOO-2026-00{nr}. U ontvangt uiterlijk {datum} een besluit.",
    "Bedankt voor uw verzoek op grond van de Woo. We nemen het in behandeling; de beslistermijn is vier weken.",
    "Uw Wob-verzoek is doorgestuurd naar de Woo-coördinator. U hoort binnen vier weken van ons.",
], direction="outbound", channels=("webchat", "email"), n=6, hard="antwoord_noemt_woo")
G("klerk-woo-precisering", P, "overig", [
    "Uw Woo-verzoek over {project} is erg breed. Kunt u aangeven over welke periode en welke documenten het gaat? De termijn is opgeschort tot wij uw antwoord hebben.",
], direction="outbound", channels=("email",), n=4, hard="antwoord_noemt_woo")
G("klerk-en", P, "overig", [
    "Thank you for your message. A colleague will contact you within {two|five} working days.",
    "Your request has been received under number {zaak}. We will reply within four weeks.",
], direction="outbound", lang="en", channels=("webchat", "email"), n=4)


G("klerk-vervolgvraag", P, "overig", [
    "Kunt u mij uw {adres|postcode en huisnummer|zaaknummer} sturen? Dan zoek ik het voor u uit.",
    "Dank voor uw bericht. Ik heb het doorgezet naar {de afdeling Belastingen|het Wmo-loket|de buitendienst|team Vergunningen}; zij nemen contact met u op.",
    "Ik kijk het even voor u na, een moment alstublieft.",
], direction="outbound", channels=("webchat", "email"), n=8)
G("klerk-afsluiting", P, "overig", [
    "Graag gedaan! Heeft u nog andere vragen?",
    "Fijne dag verder. U kunt dit gesprek nu sluiten.",
    "Is uw vraag hiermee beantwoord?",
], direction="outbound", channels=("webchat",), n=6)
CLERK2 = [
    ("afval", "De nieuwe container wordt binnen {tien|vijf} werkdagen bij u thuisbezorgd. Het oude exemplaar mag u laten staan."),
    ("parkeren", "De gehandicaptenparkeerkaart vraagt u aan met het formulier op onze website. Een arts beoordeelt daarna uw aanvraag."),
    ("vergunningen", "Voor een buurtfeest op de openbare weg heeft u een evenementenvergunning nodig. Vraag die minimaal acht weken van tevoren aan."),
    ("belastingen", "Uw verzoek om kwijtschelding is toegekend. U hoeft de aanslag niet te betalen."),
    ("burgerzaken", "Uw paspoort ligt klaar. U kunt het ophalen op afspraak aan de balie van het stadskantoor."),
    ("zorg_en_welzijn", "We hebben uw aanvraag voor huishoudelijke hulp ontvangen. De consulent komt op {datum} bij u langs."),
    ("werk_en_inkomen", "De energietoeslag wordt voor het einde van de maand op uw rekening gestort."),
    ("openbare_ruimte", "De losse stoeptegel in de {straat} is vandaag teruggelegd. Dank voor het doorgeven."),
    ("klachten", "Naar aanleiding van uw klacht hebben we de afspraak opnieuw ingepland. Onze excuses voor het ongemak."),
]
for topic, t in CLERK2:
    G(f"klerk2-{topic}", P, topic, [t], direction="outbound", channels=("webchat", "email"), n=4)

# --- sensitivity: special categories inside ordinary questions ------------
G("gev-vog-strafblad", P, "burgerzaken", [
    "Ik heb {een strafblad|een veroordeling voor diefstal|een taakstraf gehad} {van jaren geleden|uit 2019}. Krijg ik nog een VOG?",
], special=["strafrechtelijk"])
G("gev-parkeren-ziek", P, "parkeren", [
    "Ik heb {COPD|MS|een hartaandoening|reuma} en kan maar {50|100} meter lopen. Kan ik een gehandicaptenparkeerkaart krijgen?",
], special=["gezondheid"])
G("gev-afval-medisch", P, "afval", [
    "Ik gebruik {insulinenaalden|incontinentiemateriaal|stomazakjes} vanwege {mijn diabetes|mijn ziekte}. Mag ik een extra container of vrijstelling van diftar?",
], special=["gezondheid"])
G("gev-belasting-ziek", P, "belastingen", [
    "Door {mijn ziekte|de chemo|mijn opname in het ziekenhuis} heb ik de aanslag niet op tijd kunnen betalen. Kan de aanmaning vervallen?",
], special=["gezondheid"])
G("gev-religie-trouwen", P, "burgerzaken", [
    "Wij zijn {moslim|joods|katholiek} en willen naast het burgerlijk huwelijk ook {een ceremonie in de moskee|een kerkelijke inzegening|een chuppa}. Kan dat op dezelfde dag in het stadhuis?",
], special=["religie"])
G("gev-religie-begraaf", P, "overig", [
    "Is er op de gemeentelijke begraafplaats een {islamitisch|joods} vak? Mijn vader is {gisteren|vannacht} overleden.",
], special=["religie"])
G("gev-seksueel", P, "openbare_ruimte", [
    "Wij zijn {een homostel|twee vrouwen die samenwonen|een transgender vrouw} en worden {al maanden|steeds} uitgescholden door {buren|jongeren op het plein}. Wat kan de gemeente doen?",
], special=["seksueel_leven"])
G("gev-etniciteit-wijk", P, "zorg_en_welzijn", [
    "Als {Surinaamse|Turkse|Syrische} vrouw voel ik me niet welkom bij {het buurthuis|de activiteiten in de wijk}. Zijn er groepen voor vrouwen met een migratieachtergrond?",
], special=["etniciteit"])
G("gev-vakbond", P, "werk_en_inkomen", [
    "Ik ben lid van de vakbond en {mijn vakbondsconsulent|de FNV} zegt dat de sanctie op mijn uitkering onterecht is. Kunt u dit opnieuw bekijken?",
], special=["vakbond"])
G("gev-politiek", P, "klachten", [
    "Omdat ik {lid ben van een oppositiepartij|actief ben in de lokale partij} word ik bij de gemeente anders behandeld. Ik wil daar een klacht over indienen.",
], special=["politiek"])
G("gev-en-health", P, "zorg_en_welzijn", [
    "I have {cancer|multiple sclerosis|severe depression} and need help at home. Who can I talk to?",
], lang="en", special=["gezondheid"])
G("gev-reclassering", P, "zorg_en_welzijn", [
    "Mijn reclasseringsmedewerker zegt dat ik via de gemeente {begeleid wonen|dagbesteding} kan krijgen nu ik {uit detentie kom|voorwaardelijk vrij ben}.",
], special=["strafrechtelijk"])

# --- hard: special-category words used as places or things ----------------
G("hard-niet-gev-kerk", P, "openbare_ruimte", [
    "De lantaarnpaal {bij de kerk|naast de moskee|voor de synagoge} aan de {straat} is kapot.",
    "Het {fietspad langs het ziekenhuis|parkeerterrein bij de kerk} ligt vol {gaten|glas}.",
], hard="geen_bijzonder_gegeven")
G("hard-niet-gev-ziek-smerig", P, "afval", [
    "Die container bij de {straat} is {echt ziek smerig|ziekelijk vies}, haal hem {ff|even} op.",
    "De vuilnisbak {bij het ziekenhuis|bij de huisartsenpost} puilt uit.",
], hard="geen_bijzonder_gegeven")
G("hard-niet-gev-parkeren-ziekenhuis", P, "parkeren", [
    "Wat kost parkeren bij {het ziekenhuis|de huisartsenpost|de kerk} op zondag?",
], hard="geen_bijzonder_gegeven")

# --- identifiers: BSN by 11-proef, and numbers that are not a BSN -----------
G("bsn-bz", P, "burgerzaken", [
    "Mijn {BSN|burgerservicenummer} is {bsn}. Kunt u mijn uittreksel klaarzetten?",
    "Voor de aanvraag van {mijn dochter|mijn zoon}: {BSN|burgerservicenummer} {bsn}, geboren {datum}.",
])
G("bsn-wi", P, "werk_en_inkomen", [
    "Mijn uitkering is niet gestort. {BSN|Mijn bsn is} {bsn}.",
    "Aanvraag bijzondere bijstand, burgerservicenummer: {bsn}.",
])
G("bsn-bel", P, "belastingen", [
    "Kwijtschelding aangevraagd voor aanslag {zaak}, bsn {bsn}. Wat is de status?",
])
G("bsn-zorg", P, "zorg_en_welzijn", [
    "Wmo-aanvraag voor mijn vader, {BSN|sofinummer|burgerservicenummer} {bsn}, hij heeft {alzheimer|parkinson}.",
], special=["gezondheid"])
G("bsn-en", P, "burgerzaken", [
    "My {BSN|citizen service number} is {bsn}. I need a copy of my registration.",
], lang="en")
G("niet-bsn-nummers", P, "belastingen", [
    "Mijn {klantnummer|debiteurnummer|ordernummer} is {nietbsn}, de aanslag klopt niet.",
    "Betalingskenmerk {nietbsn}: ik heb {bedrag} betaald maar krijg een aanmaning.",
], hard="geen_bsn")
G("niet-bsn-telefoon", P, "afval", [
    "Bel me even terug op {telefoon} over de container.",
    "Mijn nummer is {telefoon}, bel maar als de wagen komt.",
], hard="geen_bsn")
G("niet-bsn-fout", P, "burgerzaken", [
    "Mijn BSN is {nietbsn}, kunt u mijn adreswijziging controleren?",
], hard="geen_bsn")


# --- generic phrasings × topic vocabulary ----------------------------------
# Citizens ask about the same things in many ways: each frame below is one fold group
# (its phrasing never appears on both sides of a split), crossed with the words people
# use for each topic, which recur across frames as they do in real inboxes.
TOPIC_WORDS = {
    "afval": ["mijn kliko", "de grijze container", "het ophalen van grofvuil", "de milieustraat",
              "mijn afvalpas", "de ondergrondse container", "het oud papier", "de gft-bak",
              "de afvalkalender", "het restafval"],
    "parkeren": ["mijn parkeervergunning", "een parkeerboete", "de bezoekersvergunning",
                 "parkeren in mijn straat", "de parkeerautomaat", "de blauwe zone",
                 "een gehandicaptenparkeerkaart", "de parkeerapp", "de naheffingsaanslag parkeren"],
    "vergunningen": ["mijn omgevingsvergunning", "een vergunning voor een dakkapel",
                     "de evenementenvergunning", "een kapvergunning", "mijn bouwaanvraag",
                     "de terrasvergunning", "een vergunning voor een uitbouw",
                     "de vergunningaanvraag voor mijn schuur"],
    "belastingen": ["mijn WOZ-waarde", "de aanslag gemeentelijke belastingen", "de OZB",
                    "kwijtschelding van belastingen", "de hondenbelasting", "de rioolheffing",
                    "de afvalstoffenheffing", "een betalingsregeling voor mijn aanslag",
                    "de toeristenbelasting"],
    "burgerzaken": ["mijn paspoort", "een ID-kaart", "mijn verhuizing", "een uittreksel BRP",
                    "mijn rijbewijs", "de aangifte van een geboorte", "onze trouwdatum",
                    "mijn inschrijving op een nieuw adres", "mijn stempas", "een VOG"],
    "zorg_en_welzijn": ["huishoudelijke hulp", "een Wmo-aanvraag", "mantelzorgondersteuning",
                        "jeugdhulp voor mijn kind", "een scootmobiel", "het wijkteam",
                        "de keukentafelgesprek", "dagbesteding voor mijn vader",
                        "een traplift", "begeleiding thuis"],
    "werk_en_inkomen": ["mijn bijstandsuitkering", "de energietoeslag", "bijzondere bijstand",
                        "schuldhulpverlening", "mijn klantmanager", "de inkomenstoeslag",
                        "mijn re-integratietraject", "de uitbetaling van mijn uitkering",
                        "de participatiewet"],
    "openbare_ruimte": ["een kapotte lantaarnpaal", "een losse stoeptegel", "het onderhoud van het park",
                        "een omgevallen boom", "de speeltuin in onze wijk", "een verstopt riool",
                        "gaten in het fietspad", "het groen in onze straat", "de straatverlichting",
                        "onkruid op de stoep"],
    "klachten": ["een klacht over een medewerker", "de afhandeling van mijn klacht",
                 "het uitblijven van een reactie", "de klachtenprocedure",
                 "een onbeleefde baliemedewerker", "een klacht over de gemeente",
                 "het niet nakomen van een afspraak", "de manier waarop ik behandeld ben"],
    "overig": ["de openingstijden van het gemeentehuis", "subsidie voor onze vereniging",
               "de raadsvergadering", "inspreken bij de gemeenteraad", "vrijwilligerswerk in de gemeente",
               "een buurtinitiatief", "het telefoonnummer van de gemeente", "een idee voor de wijk"],
}
TOPIC_WORDS_EN = {
    "afval": ["my garbage bin", "bulky waste collection", "the recycling centre"],
    "parkeren": ["my parking permit", "a parking fine", "visitor parking"],
    "vergunningen": ["a building permit", "an event permit", "a permit for my extension"],
    "belastingen": ["my municipal tax bill", "the WOZ value of my house", "tax remission"],
    "burgerzaken": ["my passport", "registering my new address", "a birth certificate"],
    "zorg_en_welzijn": ["home care for my mother", "support for carers", "youth care for my son"],
    "werk_en_inkomen": ["my social assistance benefit", "debt counselling", "the energy allowance"],
    "openbare_ruimte": ["a broken street light", "a hole in the road", "the playground"],
    "klachten": ["a complaint about a staff member", "how my complaint was handled"],
    "overig": ["the opening hours of the town hall", "a subsidy for our club"],
}
FRAMES = [
    "Ik heb een vraag over {tp}.",
    "Wie kan mij helpen met {tp}? {Ik kom er niet uit.|Bellen lukt niet.|Op de website staat niks.}",
    "{Goedemorgen|Hallo}, ik {bel|schrijf} namens mijn {moeder|buurvrouw|opa} over {tp}. Kan iemand {terugbellen|contact opnemen}?",
    "Waar kan ik terecht met een vraag over {tp}?",
    "{tp}: graag contact {a.u.b.|met mij opnemen}",
    "Ik heb al {wanneer} een probleem met {tp}. Wat kan ik doen?",
    "hoi, vraagje over {tp}",
    "Mijn vraag gaat over {tp}. {Kunt u mij bellen?|Graag antwoord per mail.|Wie is daarvoor verantwoordelijk?}",
    "Ik wil graag een afspraak maken over {tp}.",
    "Ik snap de brief over {tp} niet. {Wat moet ik doen?|Kan iemand het uitleggen?}",
    "Help, er gaat iets mis met {tp}!",
    "Klopt het dat er iets verandert aan {tp}?",
    "Ik ben {heel|echt} ontevreden over {tp}. {Dit moet beter.|Wanneer wordt dit opgelost?}",
    "Kan ik {online|via de website|telefonisch} iets regelen voor {tp}?",
    "Wat zijn de kosten van {tp}?",
    "Mijn buurman vroeg me jullie te mailen over {tp}, hij heeft geen computer.",
]
FRAMES_EN = [
    "I have a question about {tp}.",
    "Who can help me with {tp}? {I can't figure it out.|Nobody answers the phone.}",
    "Something went wrong with {tp}, please contact me.",
]
for fi, frame in enumerate(FRAMES):
    for topic, words in TOPIC_WORDS.items():
        G(f"frame{fi:02d}-{topic}", P, topic, [frame.replace("{tp}", "{" + "|".join(words) + "}")],
          n=2, family=f"frame{fi:02d}")
for fi, frame in enumerate(FRAMES_EN):
    for topic, words in TOPIC_WORDS_EN.items():
        G(f"frame-en{fi}-{topic}", P, topic, [frame.replace("{tp}", "{" + "|".join(words) + "}")],
          n=2, lang="en", family=f"frame-en{fi}")

PRIVATE_WORDS = ["de foto's van het weekend", "het cadeau voor mam", "onze vakantie", "de wedstrijd van zaterdag",
                 "het feestje van Lotte", "die nieuwe serie", "de bruiloft van je zus", "de hond van de buren",
                 "het etentje van vrijdag", "de verjaardag van opa", "onze date", "het concert"]
PRIVATE_FRAMES = [
    "Heb je {pw} al geregeld?", "Zullen we morgen even over {pw} praten?", "Ik moest zo lachen om {pw} haha",
    "Vergeet je {pw} niet? xx", "Hoe was {pw}? Vertel!", "{pw} was echt {top|geweldig|leuk}, dank je!",
    "Wat vond jij van {pw}?", "Ik app je vanavond over {pw}, nu even druk",
    "Stuur je me {pw}? 😊", "Schat, {pw} gaat niet door, ik leg het straks uit",
]
for fi, frame in enumerate(PRIVATE_FRAMES):
    G(f"pframe{fi:02d}", PERS, "overig", [frame.replace("{pw}", "{" + "|".join(PRIVATE_WORDS) + "}")],
      n=6, channels=("sms", "webchat", "email"))

SPAM_WORDS = ["een gratis iPhone", "€ 1.000 cadeaukaart", "crypto-winst", "een lening zonder BKR",
              "goedkope medicijnen", "een gratis cruise", "100 gratis spins", "dubbel rendement"]
SPAM_FRAMES = [
    "{Claim|Ontvang} nu {sw}! Klik op http://{promo|deal|win}.{xyz|top}/{a1|x9}",
    "Alleen vandaag: {sw} voor u gereserveerd. Bevestig uw gegevens.",
    "LAATSTE KANS: {sw} {verloopt om middernacht|wacht op u}!!!",
    "U bent uitgekozen voor {sw}. Reageer binnen 24 uur.",
    "Beste klant, {sw} staat klaar. Log in via de link om te ontvangen.",
    "Wilt u {sw}? Antwoord JA op dit bericht.",
]
for fi, frame in enumerate(SPAM_FRAMES):
    G(f"sframe{fi:02d}", SPAM, "overig", [frame.replace("{sw}", "{" + "|".join(SPAM_WORDS) + "}")],
      n=6, channels=("sms", "email", "webchat"))

# ---------------------------------------------------------------------------
# Expansion
# ---------------------------------------------------------------------------
BSN_RE = re.compile(r"(?<!\d)(\d{4}\.\d{2}\.\d{3}|\d{3} \d{3} \d{3}|\d{9})(?!\d)")
BSN_CONTEXT = ("bsn", "burgerservicenummer", "sofinummer", "citizen service number")


def has_bsn(text):
    low = text.lower()
    if not any(c in low for c in BSN_CONTEXT):
        return False
    return any(bsn_valid(re.sub(r"\D", "", m.group(1))) for m in BSN_RE.finditer(text))


SUBJECTS = {
    "afval": "Container", "parkeren": "Parkeren", "vergunningen": "Vergunning",
    "belastingen": "Aanslag", "burgerzaken": "Vraag", "zorg_en_welzijn": "Hulp",
    "werk_en_inkomen": "Uitkering", "openbare_ruimte": "Melding", "klachten": "Klacht",
    "overig": "Vraag",
}


def build():
    records = []
    seen = set()
    for g in GROUPS:
        made = 0
        attempts = 0
        while made < g["n"] and attempts < g["n"] * 8:
            attempts += 1
            template = g["templates"][(made + attempts) % len(g["templates"])]
            channel = rng.choice(g["channels"])
            body = expand(template)
            if g["direction"] == "inbound":
                body = noisy(body, channel, g["lang"])
                text = email_wrap(body, g["lang"], g["rel"]) if channel == "email" else body
            else:
                text = expand(body)
            key = text.lower()
            if key in seen:
                continue
            seen.add(key)
            made += 1
            subject = None
            if channel == "email":
                if g["woo"] and rng.random() < 0.5:
                    subject = rng.choice(["Verzoek om informatie", "Verzoek documenten", "Informatieverzoek", "Request"])
                elif g["rel"] == SPAM:
                    subject = rng.choice(["Gefeliciteerd!", "Laatste kans", "Offerte", "Important notice"])
                elif g["direction"] == "outbound":
                    subject = "Re: uw bericht"
                elif rng.random() < 0.6:
                    subject = SUBJECTS[g["topic"]] if g["rel"] == P else rng.choice(["Hoi", "Zaterdag", "", "Foto's"])
            rec = {
                "id": f"{g['gid']}-{made}",
                "group": g["family"],
                "channel": channel,
                "direction": g["direction"],
                "lang": g["lang"],
                "subject": subject or None,
                "text": text,
                "woo_relevance": g["rel"],
                "topic": g["topic"],
                "woo_request": g["woo"] and g["direction"] == "inbound",
                "special_categories": g["special"],
                "bsn": has_bsn(text),
            }
            if g["hard"]:
                rec["hard_case"] = g["hard"]
            records.append(rec)
    return records


def main():
    records = build()
    files = {
        "citizens.jsonl": lambda r: r["woo_relevance"] == P and r["direction"] == "inbound" and not r["woo_request"],
        "woo_requests.jsonl": lambda r: r["woo_request"],
        "clerks.jsonl": lambda r: r["direction"] == "outbound",
        "personal.jsonl": lambda r: r["woo_relevance"] == PERS,
        "spam.jsonl": lambda r: r["woo_relevance"] == SPAM,
    }
    total = 0
    for name, keep in files.items():
        rows = [r for r in records if keep(r)]
        total += len(rows)
        with open(OUT / name, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({k: v for k, v in r.items() if v is not None or k == "subject"},
                                   ensure_ascii=False) + "\n")
    assert total == len(records), "every record lands in exactly one file"
    print(f"{total} messages in {len(GROUPS)} groups")


if __name__ == "__main__":
    main()
