"""What a customer's words mean, apart from *when* (that is conversations.when).

This module owns the small, pure readings the dialogue engine makes of one chat message:

* which service or staff member is meant (`match_one`, `find_services`, `find_staff`,
  `wants_anyone`), fuzzily, typos and sentences included;
* what the customer wants to do (`intents`, `primary_intent`, `looks_like_booking`) and the
  carrier keywords (`is_opt_out_keyword`, `is_opt_in_keyword`);
* a yes or a no (`yes_no`) and which offered option was picked (`pick_option`);
* the details people give: a name, an email, a phone number, an address (`extract_name`,
  `clean_name`, `extract_email`, `extract_phone`, `address_problems`);
* the shared pre-processing (`normalise`).

Everything here works on plain strings and small frozen dataclasses, never touches the
database, never raises on any string and looks at no more than the first couple of thousand
characters of a message (customers say what matters first).

How names are matched (the documented choices):

* Text and every name/alias are cut into words after `normalise`, with durations made
  comparable ("1 hour", "an hour", "60mins" are all "60 min") and colour/color unified.
* Each word of a name is looked for among the message's words (and adjacent word pairs
  joined, so "hair cut" finds "Haircut"): exact, or a typo of it. A typo is one edit for
  words of 5-7 letters (insertion, deletion, swapped neighbours, or one vowel for another)
  and two for longer words; words under 5 letters and common English words ("message",
  "share") only match exactly, which is what keeps "yes", "tomorrow" or "3pm" from
  matching anything.
* A name's score is the share of its words found, weighted by length; numbers and "min"
  weigh little and filler words nothing, so "massage" scores well against "Massage (30 min)"
  and "Massage (60 min)" alike -- a tie, which is asked about -- while "massage 60" covers
  more of the message with the 60-minute one and wins. The first two words of a longer
  name count as a shortened name worth at most 80 ("home visit"); "the long massage" or
  "a quick one" settle a tie between versions whose names state different minutes.
* Specificity: when one item explains a strict superset of the message words another item
  explains, the narrower one drops out ("home visit haircut" is not "Haircut").
* Of what is left, the best wins unless another is within `margin` points: then it is
  ambiguous and both are returned to ask about. We rely on rapidfuzz's OSA edit distance
  rather than WRatio/partial_ratio: those score "yes" against "eyes" and tie every name
  containing a word, which is exactly what a booking bot must not do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from rapidfuzz.distance import OSA

from conversations.nlu.words import MONTHS, NUMBER_WORDS, ORDINAL_WORDS

__all__ = [
    "PRECEDENCE",
    "Intent",
    "Match",
    "Named",
    "Offered",
    "address_problems",
    "clean_name",
    "extract_email",
    "extract_attendee",
    "extract_name",
    "extract_phone",
    "find_services",
    "find_staff",
    "intents",
    "is_opt_in_keyword",
    "is_opt_out_keyword",
    "looks_like_booking",
    "match_one",
    "normalise",
    "pick_option",
    "primary_intent",
    "to_named",
    "wants_anyone",
    "yes_no",
]

_RAW_CAP = 2000  # raw characters looked at at all; the rest of a long message is not read
_CAP = 500  # characters of normalised text
_MAX_TOKENS = 80  # words compared when matching names

# --------------------------------------------------------------------------- word lists


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_FUNCTION_WORDS = _wordset(
    """a an the and or but if so to of in on at by for with from into about as is am are was
    were be been being do does did done have has had having i me my mine we us our you your
    he him his she her it its it's they them their this that these those there here what
    which who whom whose when where why how all any some no not nor only own same than too
    very can will just should would could might must shall i'm i've i'll i'd im ive id you're
    youre we're let's lets don't dont doesn't didn't can't cant won't wont isn't aren't
    wasn't get got want need like would please pls plz u ur"""
)
# Words customers use in chat that are not people's names (or service-name typos).
_CHAT_WORDS = _wordset(
    """yes yeah yep yup yea ya ok okay sure fine good great perfect thanks thank hello hi
    hey hiya help stop start cancel book booking booked bookings appointment appointments
    appt reschedule move change time times today tomorrow tonight morning afternoon evening
    night week weekend day days month year monday tuesday wednesday thursday friday saturday
    sunday now later soon asap next last first second anytime anything something nothing
    none maybe whatever everyone anyone someone somebody nobody name haircut hair cut
    massage colour color facial beard trim shave nails wax waxing treatment service session
    visit home house new old looking interested free available busy sorry late early back
    again also still really actually wondering trying hoping calling texting writing going
    coming running thinking wanting after outside inside ready done glad happy sick well
    tired pay paid invoice receipt balance owe price cost much money card cash info menu
    option number phone email address street road avenue confirm confirmed correct wrong
    right left other another different call text message messages share shape shake shore
    mate bro sir madam dear lol haha hmm umm um uh oh ah wow cool nice awesome lovely thx
    ty cheers bye goodbye welcome slot slots open closed price prices stylist barber
    therapist staff person human agent here there just need want like love hate know think
    see look try make take give send tell ask said say way thing stuff place shop salon
    store clinic office bit lot little more less most best better worse"""
)
# Common words that are also first names: a name when capitalised, or as a reply to
# "what's your name?".
_NAME_WORDS_TOO = _wordset(
    """will may mark bill frank drew chase miles grace hope joy faith rose jack dawn april
    june august summer sunny art pat sue rob bob don ken ray max eve holly ivy iris lily
    daisy ruby amber pearl autumn angel rich hunter mason page sky"""
)
_COMMON_WORDS = _FUNCTION_WORDS | _CHAT_WORDS
_VOWELS = frozenset("aeiouy")


# --------------------------------------------------------------------------- normalising

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})
_NON_WORD = re.compile(r"[^\w:']+|_+")
_LOOSE_MARKS = re.compile(r"(?<!\w)[:']+|[:']+(?!\w)")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, accent-free words, digits, in-word ':' and "'", single spaces, <= 500 chars."""
    return _normalise(text[:_RAW_CAP])


@lru_cache(maxsize=4096)  # several readers normalise the same message; keys are capped
def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _NON_WORD.sub(" ", text.translate(_APOSTROPHES).lower())
    text = _LOOSE_MARKS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()[:_CAP].rstrip()


# --------------------------------------------------------------------------- names: types


@dataclass(frozen=True)
class Named:
    """Something with a key, a display name and aliases (a service or a staff member)."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """The outcome of matching text against names.

    `item` is the single confident match (then `candidates` is `(item,)`); when the text
    could mean several, `item` is None and `candidates` holds the close ones, best first;
    when nothing matched both are empty. `score` is the best score seen (0-100).
    """

    item: Named | None
    candidates: tuple[Named, ...]
    score: float

    @property
    def ambiguous(self) -> bool:
        """Tell whether the text named several items and the customer must be asked."""
        return self.item is None and len(self.candidates) > 1


def to_named(obj: object) -> Named:
    """Make a Named from a service or staff record (anything with key, name and maybe aliases)."""
    if isinstance(obj, Named) and isinstance(obj.aliases, tuple):
        return obj
    aliases = getattr(obj, "aliases", None) or ()
    return Named(
        str(getattr(obj, "key", "")), str(getattr(obj, "name", "")), tuple(map(str, aliases))
    )


# --------------------------------------------------------------------------- names: words

_SPELLING = {"colour": "color", "colours": "colors", "colouring": "coloring", "grey": "gray"}
_NUMBER_WORDS = {
    "fifteen": "15",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fortyfive": "45",
    "sixty": "60",
    "ninety": "90",
}
_MIN_WORDS = frozenset({"minutes", "minute", "mins", "min", "mn", "mns", "m"})
_HOUR_WORDS = frozenset({"hours", "hour", "hrs", "hr", "h"})
_HALF_HOURS = (
    (re.compile(r"\b(?:an? |one )?hour and a half\b|\b1[.,]5 ?(?:hours?|hrs?|h)\b"), " 90 min "),
    (re.compile(r"\bhalf (?:an )?hour\b|\bhalf-hour\b|\b0?[.,]5 ?(?:hours?|hrs?)\b"), " 30 min "),
    (re.compile(r"\bforty[- ]five\b"), " 45 "),
)
_DIGIT_EDGE = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")
# Filler inside a name weighs nothing; qualifiers weigh little (see _weight).
_NAME_FILLER = frozenset({"a", "an", "the", "and", "of", "for", "to", "in", "on", "at", "with"})
_PREFIX_CAP = 80.0
_GENERIC = frozenset({"trim", "treatment", "service", "session", "visit", "appointment"})


def _words(text: str) -> tuple[str, ...]:
    """Cut text into comparable words: normalised, durations in minutes, one spelling."""
    return _cut_words(text[:_RAW_CAP])


@lru_cache(maxsize=4096)
def _cut_words(text: str) -> tuple[str, ...]:
    low = text.lower()
    for pattern, replacement in _HALF_HOURS:
        low = pattern.sub(replacement, low)
    tokens = _DIGIT_EDGE.sub(" ", normalise(low)).replace("'", "").split()[:_MAX_TOKENS]
    out: list[str] = []
    for tok in tokens:
        tok = _SPELLING.get(tok, _NUMBER_WORDS.get(tok, tok))
        if tok.startswith("colour"):
            tok = "color" + tok[6:]  # "coloured", "colourist": one spelling, any ending
        prev = out[-1] if out else ""
        if tok in _MIN_WORDS and prev.isascii() and prev.isdigit():
            out.append("min")
        elif tok in _HOUR_WORDS and prev.isascii() and prev.isdigit():
            out[-1] = str(int(prev[:4]) * 60)
            out.append("min")
        elif tok in ("hour", "hr"):  # "an hour massage"
            if prev in ("an", "one", "a"):
                out.pop()
            out.extend(("60", "min"))
        else:
            out.append(tok)
    return tuple(out)


def _weight(word: str) -> float:
    """How much finding this word of a name counts."""
    if word in _NAME_FILLER:
        return 0.0
    if word.isdigit():
        return 1.0
    if word == "min":
        return 0.5
    if word in _GENERIC:
        return 2.0
    return float(len(word))


def _typo_ok(want: str, got: str) -> bool:
    """Tell whether `got` is a plausible typo of `want` (same first letter, small edit)."""
    if len(want) < 5 or len(got) < 4 or want[0] != got[0] or got in _COMMON_WORDS:
        return False
    if want.isdigit() or got.isdigit():
        return False
    budget = 1 if len(want) < 8 else 2
    if abs(len(want) - len(got)) > budget:
        return False
    distance = OSA.distance(want, got, score_cutoff=budget)
    if distance > budget:
        return False
    if len(want) < 7 and len(want) == len(got) and distance == 1:
        # one substitution in a short word makes real words ("shave"/"share"): vowels only
        diffs = [(a, b) for a, b in zip(want, got, strict=True) if a != b]
        return len(diffs) != 1 or (diffs[0][0] in _VOWELS and diffs[0][1] in _VOWELS)
    return True


_INFLECTIONS = ("ing", "ed", "es", "s", "d")


def _stems(word: str) -> frozenset[str]:
    """What an inflected word may be the base of: "trimming" -> trim, "dyed" -> dye."""
    out: set[str] = set()
    for ending in _INFLECTIONS:
        base = word[: -len(ending)]
        if word.endswith(ending) and len(base) >= 3:
            out.add(base)
            if len(base) > 3 and base[-1] == base[-2]:
                out.add(base[:-1])  # "trimm-ing", "cutt-ing"
            if ending in ("ing", "ed"):
                out.add(base + "e")  # "shav-ing", "waxing" stays wax
    return frozenset(out)


@lru_cache(maxsize=16384)
def _similarity(want: str, got: str) -> float:
    """Score one word of a name against one word of the message: 100 exact, 80-90 a typo."""
    if want == got:
        return 100.0
    if len(want) >= 3 and got not in _COMMON_WORDS and want in _stems(got):
        return 90.0  # "coloured", "cuts", "dyed", "trimming": the word inflected, as a typo
    if not _typo_ok(want, got):
        return 0.0
    return 100.0 - 10.0 * OSA.distance(want, got)


@dataclass(frozen=True)
class _Unit:
    """A word of the message, or two adjacent ones joined, and the positions it covers."""

    text: str
    at: frozenset[int]


@dataclass(frozen=True)
class _Text:
    """A message prepared for name matching: its units indexed by first letter."""

    by_letter: dict[str, tuple[_Unit, ...]]

    def near(self, word: str) -> tuple[_Unit, ...]:
        """List the units that could match `word` (they share its first letter)."""
        return self.by_letter.get(word[:1], ())


def _prepare(text: str) -> _Text:
    words = _words(text)
    units = [_Unit(w, frozenset({i})) for i, w in enumerate(words)]
    units += [
        _Unit(a + b, frozenset({i, i + 1}))
        for i, (a, b) in enumerate(zip(words, words[1:], strict=False))
        if a.isalpha() and b.isalpha()
    ]
    by_letter: dict[str, list[_Unit]] = {}
    for unit in units:
        by_letter.setdefault(unit.text[:1], []).append(unit)
    return _Text({k: tuple(v) for k, v in by_letter.items()})


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]
    weights: tuple[float, ...]
    joined: str
    cap: float = 100.0  # the best score this phrase may give


@lru_cache(maxsize=4096)
def _phrases(item: Named) -> tuple[_Phrase, ...]:
    """The name and aliases of an item, cut into weighted words."""
    out: list[_Phrase] = []
    for raw in (item.name, *item.aliases):
        words = _words(raw)
        if not words:
            continue
        weights = tuple(_weight(w) for w in words)
        if not any(weights):  # a name made only of filler still has to be findable
            weights = tuple(float(len(w)) for w in words)
        out.append(_Phrase(words, weights, "".join(words)))
        if raw is item.name and len(words) > 2 and all(weights[:2]):
            # people shorten long names: "home visit" for "Home visit haircut"
            out.append(_Phrase(words[:2], weights[:2], "".join(words[:2]), cap=_PREFIX_CAP))
    return tuple(out)


def _best_unit(word: str, text: _Text) -> tuple[float, frozenset[int]]:
    best, where = 0.0, frozenset[int]()
    for unit in text.near(word):
        score = _similarity(word, unit.text)
        if score > best:
            best, where = score, unit.at
            if score == 100.0:
                break
    return best, where


def _phrase_score(phrase: _Phrase, text: _Text) -> tuple[float, frozenset[int]]:
    """Score a name against the message: weighted share of its words found, and where."""
    got, used = 0.0, frozenset[int]()
    for word, weight in zip(phrase.words, phrase.weights, strict=True):
        if weight:
            score, where = _best_unit(word, text)
            got += weight * score
            used |= where
    score = min(got / sum(phrase.weights), phrase.cap)
    if len(phrase.words) > 1:  # "beardtrim" typed as one word
        joined, where = _best_unit(phrase.joined, text)
        if min(joined, phrase.cap) > score:
            score, used = min(joined, phrase.cap), where
    return score, used


@dataclass(frozen=True)
class _Scored:
    item: Named
    score: float
    used: frozenset[int]
    order: int


def _score_item(item: Named, text: _Text, cutoff: float, order: int) -> _Scored:
    best, used = 0.0, frozenset[int]()
    for phrase in _phrases(item):
        score, where = _phrase_score(phrase, text)
        if score >= cutoff:
            used |= where  # every name that fits counts towards what the item explains
        if score > best:
            best = score
            if score < cutoff:
                used = where
    return _Scored(item, best, used, order)


def match_one(text: str, items: Sequence[Named], *, cutoff: float = 70, margin: float = 8) -> Match:
    """Find which one of `items` the text names, or the close ones to ask about."""
    return _match_one(text, tuple(to_named(item) for item in items), cutoff, margin)


# A turn asks about the same message and the same names several times (is it a request,
# which service, which visit): the answer depends on nothing else, and everything is frozen.
@lru_cache(maxsize=2048)
def _match_one(text: str, items: tuple[Named, ...], cutoff: float, margin: float) -> Match:
    prepared = _prepare(text)
    if not prepared.by_letter or not items:
        return Match(None, (), 0.0)
    scored = [_score_item(item, prepared, cutoff, i) for i, item in enumerate(items)]
    best = max(s.score for s in scored)
    fits = [s for s in scored if s.score >= cutoff and s.used]
    if not fits:
        return Match(None, (), best)
    # the narrower reading drops out: "home visit haircut" also contains "haircut"
    fits = [s for s in fits if not any(s.used < other.used for other in fits)]
    fits.sort(key=lambda s: (-s.score, s.order))
    top = fits[0]
    close = tuple(s.item for s in fits if top.score - s.score <= margin)
    if len(close) > 1:
        close = _by_size(_words(text), close)
    if len(close) == 1:
        return Match(close[0], close, top.score)
    return Match(None, close, top.score)


_LONGER = frozenset({"long", "longer", "longest", "full", "extended", "big", "bigger"})
_SHORTER = frozenset({"short", "shorter", "shortest", "quick", "quicker", "mini", "express"})


def _minutes(item: Named) -> int | None:
    """The duration an item's names state ("Massage (60 min)" -> 60), if any."""
    for phrase in _phrases(item):
        for number, unit in zip(phrase.words, phrase.words[1:], strict=False):
            if number.isdigit() and unit == "min":
                return int(number)
    return None


def _by_size(words: tuple[str, ...], close: tuple[Named, ...]) -> tuple[Named, ...]:
    """Settle "the long massage" / "a quick massage" between versions of different lengths."""
    longer, shorter = _LONGER.intersection(words), _SHORTER.intersection(words)
    minutes = [_minutes(item) for item in close]
    if bool(longer) == bool(shorter) or None in minutes or len(set(minutes)) < len(minutes):
        return close
    pick = max if longer else min
    return (close[minutes.index(pick(m for m in minutes if m is not None))],)


def find_services(text: str, services: Sequence[object], *, cutoff: float = 70) -> Match:
    """Find the service a message names (services as Named, ServiceConfig or Service)."""
    return match_one(text, [to_named(s) for s in services], cutoff=cutoff, margin=8)


_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sir"})


@lru_cache(maxsize=1024)
def _staff_named(item: Named) -> Named:
    """Add what people call staff: first name, last name, first name and last initial."""
    words = [w for w in normalise(item.name).split() if w not in _TITLES]
    extra: list[str] = []
    if words:
        extra.append(words[0])
    if len(words) > 1:
        extra += [words[-1], f"{words[0]} {words[-1][0]}"]
    return Named(item.key, item.name, (*item.aliases, *extra))


@lru_cache(maxsize=1024)
def _diminutives(item: Named) -> tuple[str, ...]:
    """Nicknames people make of a first name: "sammy" for Sam, "pri" or "priy" for Priya.

    A doubled last consonant plus -y/-ie ("sammy", "sammie"), -y/-ie ("jordy"), and the
    first three or four letters of a longer name; never a common word ("will" of Willow).
    """
    words = [w for w in normalise(item.name).split() if w not in _TITLES]
    if not words or len(words[0]) < 3 or not words[0].isalpha():
        return ()
    first = words[0]
    stem = first[:-1] if first[-1] in _VOWELS and len(first) > 3 else first
    forms = [f"{stem}y", f"{stem}ie", f"{stem}{stem[-1]}y", f"{stem}{stem[-1]}ie"]
    if len(first) >= 5:
        forms += [first[:3], first[:4], f"{first[:4]}y", f"{first[:4]}ie"]
    return tuple(
        f for f in dict.fromkeys(forms) if f != first and f not in _COMMON_WORDS and len(f) >= 3
    )


_NOT_STAFF = re.compile(
    r"\b(?:(?:not|no|instead of|rather than|other than|except|but not)\s+)+(\S+)"
)
_WITH_STAFF = re.compile(r"\b(?:with|w|by|from|see|prefer)\s+((?:\S+\s*){1,3})")


def find_staff(text: str, staff: Sequence[object], *, cutoff: float = 75) -> Match:
    """Find the staff member a message names ("with Sam", "sam r", "Ms Patel", "sammy").

    Besides names and configured aliases, each first name's diminutives count, except one
    that is another staff member's own name or alias (with Sam and Samantha, "sam" is Sam);
    two people who share a diminutive ("pri" for Priya and Priyanka) are both candidates.
    """
    named = [_staff_named(to_named(s)) for s in staff]
    own = {normalise(a) for p in named for a in (p.name, *p.aliases)}
    people = [
        Named(p.key, p.name, (*p.aliases, *(d for d in _diminutives(p) if d not in own)))
        for p in named
    ]
    found = match_one(text, people, cutoff=cutoff, margin=8)
    if found.ambiguous:
        # "haircut with Sam, I'm Ana Lee": who comes after "with" is the one meant
        after = _WITH_STAFF.search(normalise(text))
        narrowed = match_one(after.group(1), people, cutoff=cutoff, margin=8) if after else None
        if narrowed is not None and narrowed.item is not None:
            found = narrowed
    if found.ambiguous:
        # "no, not sam - alex", "alex rather than sam": the one not ruled out
        ruled_out = {
            c.key
            for m in _NOT_STAFF.finditer(normalise(text))
            for c in (match_one(m.group(1), people, cutoff=cutoff, margin=8).item,)
            if c is not None
        }
        left = [c for c in found.candidates if c.key not in ruled_out]
        if ruled_out and len(left) == 1:
            found = Match(left[0], (left[0],), found.score)
    # hand back the caller's own objects' Named form, not the one with derived aliases
    plain = {p.key: to_named(s) for p, s in zip(people, staff, strict=True)}
    return Match(
        plain[found.item.key] if found.item else None,
        tuple(plain[c.key] for c in found.candidates),
        found.score,
    )


_ANYONE = re.compile(
    r"^(?:any|either|whichever|whoever)(?: (?:one|is fine|will do|works|please))?$"
    r"|\b(?:anyone|anybody|any one|whoever|whomever|whichever)\b"
    r"|\bany (?:staff|stylist|barber|therapist|person|of (?:them|you|those)|is fine|will do"
    r"|available|works|one)\b"
    r"|\b(?:don't|dont|do not|doesn't|doesnt|does not) (?:mind|care|matter)\b"
    r"|\bno (?:preference|pref|one in particular|particular)\b|\bnot (?:fussed|bothered|picky)\b"
    r"|\b(?:first|next|earliest|soonest) (?:person|one)\b"
    # "next available" alone is anyone; "haircut with sam next available" is Sam's next time
    r"|^(?:the )?(?:first|next|earliest|soonest) (?:available|free)(?: (?:one|please|is fine))?$"
    r"|\b(?:first|next|earliest|soonest) (?:available|free) (?:person|stylist|barber|therapist"
    r"|staff|one)\b"
    r"|\bdoesn't matter\b|\bup to you\b|\byou (?:choose|pick|decide)\b"
)


def wants_anyone(text: str) -> bool:
    """Tell whether the customer has no staff preference ("anyone", "don't mind")."""
    return bool(_ANYONE.search(normalise(text)))


# --------------------------------------------------------------------------- intents


class Intent(StrEnum):
    """What a customer wants to do with a message."""

    BOOK = "book"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    MY_APPOINTMENTS = "my_appointments"
    PAY = "pay"
    BALANCE = "balance"
    INVOICE = "invoice"
    HELP = "help"
    HUMAN = "human"
    STOP = "stop"
    START = "start"
    GREETING = "greeting"
    THANKS = "thanks"
    BACK = "back"
    RESTART = "restart"
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


# The order `primary_intent` picks in. Opt-out first (the law and the carrier), then asking
# for a person, then changes to existing bookings -- moving beats cancelling, since "I can't
# make it, can we move it" wants a new time -- then navigation, money, lookups, booking,
# help, and the conversational odds and ends last.
PRECEDENCE: tuple[Intent, ...] = (
    Intent.STOP,
    Intent.START,
    Intent.HUMAN,
    Intent.RESCHEDULE,
    Intent.CANCEL,
    Intent.RESTART,
    Intent.BACK,
    Intent.PAY,
    Intent.BALANCE,
    Intent.INVOICE,
    Intent.MY_APPOINTMENTS,
    Intent.BOOK,
    Intent.HELP,
    Intent.NO,
    Intent.YES,
    Intent.THANKS,
    Intent.GREETING,
    Intent.UNKNOWN,
)

_OPT_OUT = re.compile(r"\s*(stop|stopall|unsubscribe|end|quit|optout|revoke)[\s.!]*", re.I)
_OPT_IN = re.compile(r"\s*(start|unstop|subscribe)[\s.!]*", re.I)


def is_opt_out_keyword(text: str) -> bool:
    """Tell whether the whole message is a carrier opt-out keyword (STOP, QUIT, ...).

    CANCEL is a carrier keyword on Twilio too, but here it means "cancel my appointment":
    the engine decides what the carrier's reading means for the conversation.
    """
    return len(text) <= 40 and _OPT_OUT.fullmatch(text) is not None


def is_opt_in_keyword(text: str) -> bool:
    """Tell whether the whole message is a carrier opt-in keyword (START, UNSTOP, SUBSCRIBE)."""
    return len(text) <= 40 and _OPT_IN.fullmatch(text) is not None


def _pattern(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


_MY = r"(?:my|the|that|this|our|it)"
_APPT = r"(?:appointments?|appts?|bookings?|sessions?|reservations?|slots?)"
_UNABLE = (
    r"(?:can't|cant|cannot|can not|won't be able to|wont be able to|will not be able to"
    r"|unable to|not able to|not going to|not gonna|couldn't|wont|won't|will not)"
)

# Each intent: what signals it, and (optionally) what rules that reading out.
_INTENT_RULES: tuple[tuple[Intent, re.Pattern[str], re.Pattern[str] | None], ...] = (
    (
        Intent.STOP,
        _pattern(
            r"\b(?:stop|quit|cease) (?:texting|messaging|sending|contacting|emailing|spamming"
            r"|bothering|calling)\b",
            r"\bunsubscribe\b",
            r"\bopt ?out\b",
            r"\bremove me from\b",
            r"\b(?:don't|do not|dont|never) (?:text|message|contact|email|sms) me\b",
            r"\bno more (?:texts|messages|promos|promotions|offers|marketing)\b",
        ),
        None,
    ),
    (
        Intent.HUMAN,
        _pattern(
            r"\b(?:talk|speak|chat|speaking|talking) (?:to|with) (?:a |an |the |some |your )?"
            r"(?:someone|somebody|person|human|real|owner|manager|staff|receptionist|people|live"
            r"|actual|member|rep|representative|agent|operator|boss)\b",
            r"\b(?:humans?|agent|operator|receptionist|representative|real person|live person"
            r"|actual person|a person|customer service|manager)\b",
            r"\b(?:call|ring|phone) me\b",
            r"\b(?:give me a|can you|could you|please) (?:call|ring|phone)\b",
            r"\bare you (?:a )?(?:bot|robot|real|human|machine)\b",
            r"\bnot a (?:bot|robot)\b",
        ),
        re.compile(r"\bcall me (?!back|asap|now|please|today|tomorrow|later|when)[a-z]+$"),
    ),
    (
        Intent.RESCHEDULE,
        _pattern(
            r"^r$",
            r"\bre ?sched\w*",
            r"\b(?:move|moving|shift|shifting|bump|rearrange|postpone|delay|rebook|re book)\b",
            r"\b(?:change|changing|switch|swap|amend|modify|update|alter)\b(?: \w+){0,3}? "
            r"(?:time|times|day|date|appointment|appt|booking|slot|session|it)\b",
            r"\bpush (?:it|this|that|me|my \w+|the \w+ )?\s?(?:back|forward|later|earlier|out)\b",
            r"\bbring (?:it|this|that|my \w+|the \w+)? ?forward\b",
            r"\b(?:do|make|have|come|go)(?: it| in)? (?:a bit |bit )?(?:later|earlier)\b",
            r"\b(?:a )?(?:later|earlier|different|another|other|new) (?:time|day|date|slot)\b",
        ),
        None,
    ),
    (
        Intent.CANCEL,
        _pattern(
            r"^x$",
            r"\bcancel\w*",
            rf"\b{_UNABLE} (?:make it|make|come|attend|be there|get there|come in)\b",
            r"\bnot (?:coming|going to make it|gonna make it|make it|attending)\b",
            r"\bcall(?:ing)? (?:it )?off\b",
            rf"\b(?:delete|remove|scrap|drop) {_MY} ?(?:\w+ )?{_APPT}?\b",
        ),
        re.compile(r"\bremove me from\b"),
    ),
    (
        Intent.RESTART,
        _pattern(
            r"\bstart (?:over|again|afresh|from scratch)\b",
            r"\brestart\b|\breset\b|\bnever ?mind\b|\bnvm\b|\bscratch that\b",
            r"\bforget (?:it|that|this|about it)\b",
            r"\bfrom the (?:top|beginning|start)\b|\bbegin again\b",
        ),
        None,
    ),
    (
        Intent.BACK,
        _pattern(
            r"^(?:go |take me |step )?back$",
            r"\bgo back\b|\btake me back\b|\bstep back\b|\bprevious\b|\bundo\b",
            r"\bwrong (?:one|choice|button)\b",
        ),
        None,
    ),
    (
        Intent.PAY,
        _pattern(
            r"\bpay\b",
            r"\bpaying\b",
            r"\bpay(?:ment)? ?link\b",
            r"\bmake (?:a )?payment\b",
            r"\bcheckout\b",
        ),
        re.compile(r"\bhow much\b|\bdo i (?:still )?(?:have to|need to) pay\b"),
    ),
    (
        Intent.BALANCE,
        _pattern(
            r"\bowe\b|\bowing\b",
            r"\bbalance\b",
            r"\bhow much\b.*\b(?:due|outstanding|left|pay|paid|charged)\b",
            r"\bwhat(?:'s| is) (?:due|outstanding)\b",
            r"\bamount (?:due|outstanding)\b",
            r"\boutstanding\b",
        ),
        None,
    ),
    (
        Intent.INVOICE,
        _pattern(r"\binvoices?\b", r"\breceipts?\b", r"\bbill\b", r"\bstatement\b"),
        None,
    ),
    (
        Intent.MY_APPOINTMENTS,
        _pattern(
            r"\b(?:when|what time|what day|where|what date)(?:'s| is| was| are)? (?:my|the) "
            r"(?:next )?(?:appointment|appt|booking|session)s?\b",
            r"\b(?:show|list|see|view|check|what are|what's|whats) (?:me )?(?:all )?my "
            rf"(?:\w+ )?{_APPT}\b",
            r"\bmy (?:upcoming |next |future |current )?(?:appointments|appts|bookings|reservations)\b",
            r"\bmy (?:upcoming|next|future) (?:appointment|appt|booking)\b",
            rf"\b(?:do|did) i (?:have|got|still have) (?:an?|any) (?:\w+ )?{_APPT}\b",
            r"\bam i (?:booked|scheduled|down|in)\b|\bwhen am i\b",
            r"\bwhat (?:have i|do i have|did i|have i got|i have|i've) (?:got )?"
            r"(?:booked|scheduled|coming up)\b",
            r"^(?:my )?(?:appointments|appts|bookings|reservations)$",
            rf"^my {_APPT}$",
        ),
        None,
    ),
    (
        Intent.BOOK,
        _pattern(
            r"(?<!my )(?<!the )(?<!that )(?<!this )(?<!our )\bbook(?:ing)?\b",
            r"\b(?:an|a|another|new|one|some) (?:appointment|appt|slot|session|reservation)\b",
            r"^(?:an? )?(?:appointment|appt)(?: please)?$",
            r"\bcome in\b|\bfit me in\b|\bsqueeze me in\b|\bpop in\b|\bget me in\b",
            r"\b(?:any|have you got|do you have|got) (?:anything|any ?thing|something|space|room"
            r"|availability|openings?|slots?|spots?|times?|appointments?|free|spaces)\b",
            r"(?<!not )(?<!n't )\b(?:availability|available|openings?|vacanc(?:y|ies))\b",
            r"\bschedule (?:me|an?|another|one|something|in|for)\b",
            r"\breserv(?:e|ation)\b|\bsign me up\b",
        ),
        None,
    ),
    (
        Intent.HELP,
        _pattern(
            r"^(?:help|info|information|menu|options|commands|what)$",
            r"\bhelp\b|\bwhat can you do\b|\bhow (?:does|do) (?:this|you|it) work\b",
            r"\bwhat (?:are )?(?:my |the )?options\b|\bshow (?:me )?(?:the )?menu\b",
        ),
        None,
    ),
    (
        Intent.THANKS,
        _pattern(
            r"\b(?:thanks|thank you|thank u|thankyou|thanx|thx|thnx|thnks|ty|tysm|tyvm|cheers|ta"
            r"|much appreciated|appreciate it|many thanks)\b"
        ),
        None,
    ),
    (
        Intent.GREETING,
        _pattern(
            r"^(?:hi+|he+y+|heya|hello+|helo|hallo|hiya|howdy|yo|sup|greetings|hey there"
            r"|hi there|hello there)\b",
            r"^good (?:morning|afternoon|evening|day)\b",
        ),
        None,
    ),
)

# Typos of the words intents hinge on, corrected before the patterns run.
_INTENT_VOCAB = (
    "cancel",
    "reschedule",
    "appointment",
    "appointments",
    "booking",
    "bookings",
    "invoice",
    "receipt",
    "balance",
    "payment",
    "unsubscribe",
    "availability",
    "available",
)
_ABBREVIATIONS = {"cxl": "cancel", "canx": "cancel", "appt": "appointment", "pls": "please"}


@lru_cache(maxsize=4096)
def _canon_word(word: str) -> str:
    word = _ABBREVIATIONS.get(word, word)
    if len(word) < 5 or word in _COMMON_WORDS or word in _INTENT_VOCAB:
        return word
    best, best_distance = word, 3
    for known in _INTENT_VOCAB:
        if _typo_ok(known, word):
            distance = OSA.distance(known, word)
            if distance < best_distance:
                best, best_distance = known, distance
    return best


def _intent_text(text: str) -> str:
    return " ".join(_canon_word(w) for w in normalise(text).split())


_QUESTION_MARKS = re.compile(r"\s*\?+\s*")


def intents(text: str) -> set[Intent]:
    """List every intent a message expresses (UNKNOWN alone when none)."""
    found: set[Intent] = set()
    if is_opt_out_keyword(text):
        found.add(Intent.STOP)
    if is_opt_in_keyword(text):
        found.add(Intent.START)
    words = _intent_text(text)
    if _QUESTION_MARKS.fullmatch(text[:40]):
        found.add(Intent.HELP)
    for intent, signal, veto in _INTENT_RULES:
        if signal.search(words) and not (veto and veto.search(words)):
            found.add(intent)
    answer = yes_no(text)
    if answer is not None:
        found.add(Intent.YES if answer else Intent.NO)
    return found or {Intent.UNKNOWN}


def primary_intent(text: str) -> Intent:
    """Pick the one intent to act on, by PRECEDENCE (STOP > START > HUMAN > RESCHEDULE > ...)."""
    found = intents(text)
    return next(i for i in PRECEDENCE if i in found)


_NOT_BOOKING = frozenset(
    {
        Intent.STOP,
        Intent.HUMAN,
        Intent.RESCHEDULE,
        Intent.CANCEL,
        Intent.MY_APPOINTMENTS,
        Intent.PAY,
        Intent.BALANCE,
        Intent.INVOICE,
    }
)
_PRICE_QUESTION = re.compile(r"\bhow much\b|\bprice\b|\bcost\b|\bcharge\b|\bhow long\b")


def looks_like_booking(text: str, services: Sequence[object]) -> bool:
    """Tell whether a message asks to book: a BOOK intent, or a service named ("haircut fri").

    A question about a service ("how much is a haircut?") is not a booking request.
    """
    found = intents(text)
    if found & _NOT_BOOKING:
        return False
    if Intent.BOOK in found:
        return True
    if _PRICE_QUESTION.search(normalise(text)):
        return False
    match = find_services(text, services)
    return match.item is not None or match.ambiguous


# --------------------------------------------------------------------------- yes / no

_YES_EMOJI = frozenset("\U0001f44d\u2705\U0001f44c\u2714\u2611\U0001f4af\U0001f64c\U0001f44f")
_NO_EMOJI = frozenset("\U0001f44e\u274c\U0001f6ab\u2716\u274e\U0001f645")
_STRETCHED = (
    (re.compile(r"^y+e+s+$|^y+a+s+$|^ye+s+h+$"), "yes"),
    (re.compile(r"^y+e+a+h*$|^y+a+h*$"), "yeah"),
    (re.compile(r"^y+u+p+$|^y+e+p+$"), "yep"),
    (re.compile(r"^n+o+$"), "no"),
    (re.compile(r"^n+o+p+e*$"), "nope"),
    (re.compile(r"^n+a+h*$"), "nah"),
    (re.compile(r"^o+k+a*y*$|^k+$"), "ok"),
)
_YES_WORDS = _wordset(
    """y yes yeah yep yup yea sure ok okay alright aight correct confirm confirmed confirming
    perfect great good fine cool absolutely definitely certainly affirmative indeed lovely
    excellent awesome brilliant ideal agreed deal c"""
)
_NO_WORDS = _wordset("n no nope nah nay negative neither none wrong incorrect")
_YES_PHRASES = (
    "sounds good",
    "sounds great",
    "sounds perfect",
    "book it",
    "do it",
    "go ahead",
    "go for it",
    "that works",
    "works for me",
    "that's fine",
    "thats fine",
    "that's right",
    "thats right",
    "of course",
    "why not",
    "let's do it",
    "lets do it",
    "please do",
    "all good",
    "will do",
    "no problem",
    "no worries",
    "for sure",
    "fine by me",
    "book me in",
    "lock it in",
    "that'll work",
    "that one",
    "yes please",
)
_NO_PHRASES = (
    "not really",
    "no thanks",
    "don't",
    "dont",
    "do not",
    "doesn't work",
    "doesnt work",
    "does not work",
    "won't work",
    "wont work",
    "not good",
    "not that",
    "no way",
    "not for me",
    "i don't think so",
    "not now",
    "none of them",
    "none of those",
    "rather not",
    "i can't",
    "can't do",
)
_UNCLEAR = re.compile(
    r"\b(?:maybe|perhaps|possibly|not sure|unsure|dunno|idk|don't know|dont know|do not know"
    r"|we'll see|depends|might)\b"
)
# A reply that changes the offer ("yes but at 4pm") is not a plain yes or no: the engine
# reads it again as a new request.
_CHANGE = re.compile(
    r"\b(?:but|instead|actually|rather than|except|unless|change|different|earlier|later"
    r"|how about|what about|prefer|only if|if|cheaper|(?:can|could|would|will|do|did) (?:we|i|you)"
    r")\b|\d"
)
_NOT_NO = ("no problem", "no worries", "don't mind", "dont mind", "do not mind", "not a problem")
_GREETING_HEAD = re.compile(
    r"^(?:(?:hi|hey|hello|hiya|good (?:morning|afternoon|evening|day)|morning|evening)(?: |$))+"
)
_FILLER_TAIL = re.compile(r"(?: (?:please|pls|thanks|thank you|thx|ty|cheers|mate|then|so))+$")


def _yes_word(word: str) -> str:
    for pattern, canonical in _STRETCHED:
        if pattern.match(word):
            return canonical
    return word


def _has_phrase(words: str, phrases: Iterable[str]) -> bool:
    padded = f" {words} "
    return any(f" {p} " in padded for p in phrases)


def _emoji_answer(text: str) -> bool | None:
    head = text[:_RAW_CAP]
    yes = any(c in _YES_EMOJI for c in head)
    no = any(c in _NO_EMOJI for c in head)
    return None if yes == no else yes


_POLITE = _wordset(
    """please pls plz thanks thank you thx ty it that this one book do go ahead sounds works for
    me lets let's of course why not so much very thats that's right"""
)


def plain_yes(text: str) -> bool:
    """A yes that says nothing else ("yes please", "ok book it"): no day, time or name."""
    words = re.findall(r"[a-z']+|\d+", normalise(text))
    return bool(words) and all(w in _YES_WORDS or w in _POLITE for w in words)


def yes_no(text: str) -> bool | None:
    """Read a yes (True) or a no (False); None when unclear or when the reply changes things.

    "yes but at 4pm", "no, how about Friday" and "maybe" are None: a reply carrying a
    change (but, instead, a number, "how about"...) is for the engine to read afresh.
    """
    words = " ".join(_yes_word(w) for w in normalise(text).split())
    words = _GREETING_HEAD.sub("", words)
    words = _FILLER_TAIL.sub("", words) or words
    if not words:
        return _emoji_answer(text)
    if "?" in text[:_RAW_CAP] and not _has_phrase(words, ("why not",)):
        return None
    if _UNCLEAR.search(words):
        return None
    first = words.split()[0]
    said_no = _has_phrase(words, _NO_PHRASES) or first in _NO_WORDS
    said_yes = _has_phrase(words, _YES_PHRASES) or first in _YES_WORDS
    if _has_phrase(words, _NOT_NO):
        said_no, said_yes = False, True
    if not said_yes and not said_no:
        return _emoji_answer(text)
    if said_yes and said_no or _CHANGE.search(words):
        return None
    if said_yes and any(w in _NO_WORDS or w in ("not", "never") for w in words.split()[1:]):
        return None if not _has_phrase(words, _NOT_NO) else True
    return said_yes


# --------------------------------------------------------------------------- picking options


@dataclass(frozen=True)
class Offered:
    """One option the bot offered: its id, the label shown and, for a time slot, its start."""

    id: str
    label: str
    start: datetime | None = None  # aware


_ORDINALS = {word: n for word, n in ORDINAL_WORDS.items() if n <= 10}  # "the third one"
_CARDINALS = NUMBER_WORDS
_NUMBER = r"(\d{1,2}|" + "|".join(_CARDINALS) + ")"
_MERIDIEM = r"\s*(a\.?m\.?|p\.?m\.?|o'?clock)?(?![a-z])"
_TIME_PATTERNS = (
    re.compile(r"\bhalf (?:past )?" + _NUMBER + r"\b" + _MERIDIEM),
    re.compile(r"\bquarter (past|after|to|till|before) " + _NUMBER + r"\b" + _MERIDIEM),
    re.compile(r"(?<![\d.:])(\d{1,2})[:.h](\d{2})(?![\d.:])" + _MERIDIEM),
    re.compile(r"(?<![\d.:])(\d{1,2})\s*(a\.?m\.?|p\.?m\.?|o'?clock)(?![a-z])"),
    re.compile(r"\b(noon|midday)\b"),
    re.compile(r"\b(?:at|@) ?" + _NUMBER + r"\b"),
)
_INDEX_WORDS = re.compile(
    r"(?:#|\bno\. ?|\bno(?=\d)|\boption ?|\bnumber ?|\bnum ?|\bchoice ?|\bslot ?)" + _NUMBER + r"\b"
)
_ORDINAL = re.compile(
    r"\b(?:(second|2nd) (?:to )?last|penultimate|(last|final|bottom)|(top)|(earliest|earlier|soonest)"
    r"|(latest|later)|(" + "|".join(_ORDINALS) + r")|(\d{1,2})(?:st|nd|rd|th))\b"
)
_BARE_NUMBER = re.compile(r"(?<![\d:.])\b" + _NUMBER + r"\b(?![\d:])")
_WEEKDAYS = re.compile(
    r"\b(?:(mon)(?:day)?|(tue)(?:s|sday|esday)?|(wed)(?:s|nesday)?|(thu)(?:r|rs|rsday|sday)?"
    r"|(fri)(?:day)?|(sat)(?:urday)?|(sun)(?:day)?)\b"
)
_RELATIVE_DAY = re.compile(r"\b(today|tonight|tomorrow|tmrw|tmr|tomoz)\b")
_MONTHS = tuple(month[:3] for month in MONTHS)
_MONTH = r"(" + "|".join(_MONTHS) + r")[a-z]*"
_DATE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?(?: of)? "
    + _MONTH
    + r"\b|\b"
    + _MONTH
    + r" (\d{1,2})(?:st|nd|rd|th)?\b"
)
_DAY_OF_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
_PICK_FILLER = _wordset(
    """the one ones with please pls i ill i'll id i'd take want wants lets let's go for that this
    a an option slot at on is fine good works me do book it thanks ok okay yes yeah time
    appointment day like prefer how about one's that's thats please and or of in to would
    better best sounds great perfect choose pick select sure please"""
)


def _to_int(token: str) -> int:
    return _CARDINALS.get(token) or int(token)


def _blank(text: str, m: re.Match[str]) -> str:
    return text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]


@dataclass(frozen=True)
class _Clock:
    """A time of day said: hour, minute, whether am/pm is known, whether minutes were said."""

    hour: int
    minute: int
    meridiem: str | None  # "am" | "pm" | None
    hour_only: bool


def _meridiem(raw: str | None) -> str | None:
    if not raw or raw.startswith("o"):
        return None
    return "am" if raw.startswith("a") else "pm"


def _clock_from(i: int, m: re.Match[str]) -> _Clock | None:
    g = m.groups()
    if i == 0:
        return _Clock(_to_int(g[0]), 30, _meridiem(g[1]), False)
    if i == 1:
        hour = _to_int(g[1])
        if g[0] in ("past", "after"):
            return _Clock(hour, 15, _meridiem(g[2]), False)
        return _Clock((hour - 1) or 12, 45, _meridiem(g[2]), False)
    if i == 2:
        return _Clock(int(g[0]), int(g[1]), _meridiem(g[2]), False)
    if i == 3:
        return _Clock(int(g[0]), 0, _meridiem(g[1]), True)
    if i == 4:
        return _Clock(12, 0, "pm", False)
    return _Clock(_to_int(g[0]), 0, None, True)


def _take_clocks(text: str) -> tuple[str, list[_Clock]]:
    clocks: list[_Clock] = []
    for i, pattern in enumerate(_TIME_PATTERNS):
        for m in list(pattern.finditer(text)):
            clock = _clock_from(i, m)
            if clock and 0 <= clock.hour <= 23 and 0 <= clock.minute <= 59:
                clocks.append(clock)
            text = _blank(text, m)
    return text, clocks


def _at_clock(starts: dict[int, datetime], clock: _Clock) -> set[int]:
    """Which options start at the time said (12-hour reading when am/pm is not known)."""

    def hits(minute_matters: bool) -> set[int]:
        out = set()
        for i, start in starts.items():
            hour = start.hour
            if clock.meridiem == "pm" and clock.hour < 12:
                want = clock.hour + 12
            elif clock.meridiem == "am" and clock.hour == 12:
                want = 0
            else:
                want = clock.hour
            if clock.meridiem or clock.hour > 12 or clock.hour == 0:
                same_hour = hour == want
            else:
                same_hour = hour % 12 == clock.hour % 12
            if same_hour and (not minute_matters or start.minute == clock.minute):
                out.add(i)
        return out

    exact = hits(True)
    return exact if exact or not clock.hour_only else hits(False)


def _take_index(text: str, count: int) -> tuple[str, list[int], list[_Clock]]:
    """Find option numbers: "#2", "option 2", "the second", "last"; a big number is an hour."""
    picks: list[int] = []
    hours: list[_Clock] = []
    alone = text.strip()
    for m in list(_INDEX_WORDS.finditer(text)):
        picks.append(_to_int(m.group(1)))
        text = _blank(text, m)
    for m in list(_ORDINAL.finditer(text)):
        second_last, last, top, earliest, latest, word, digits = m.groups()
        if second_last or m.group(0) == "penultimate":
            picks.append(count - 1)
        elif last:
            picks.append(count)
        elif top:
            picks.append(1)
        elif earliest or latest:
            picks.append(-1 if earliest else -2)  # resolved by start time later
        elif word:
            picks.append(_ORDINALS[word])
        elif digits and int(digits) <= count:
            picks.append(int(digits))
        else:
            continue  # "the 17th": a day of the month, read by _take_dates
        text = _blank(text, m)
    for m in list(_BARE_NUMBER.finditer(text)):
        token = m.group(1)
        if token in _CARDINALS and token != alone:
            continue  # "one" in "the one with Alex" or "that one" is not a number
        n = _to_int(token)
        if 1 <= n <= count:
            picks.append(n)
        elif 1 <= n <= 23:
            hours.append(_Clock(n, 0, None, True))
        else:
            continue  # "the 60 min one": left for the labels
        text = _blank(text, m)
    return text, picks, hours


def _take_dates(text: str, starts: dict[int, datetime]) -> tuple[str, list[set[int]]]:
    """Find dates with a month name ("nov 17", "17th of November") as sets of options."""
    found: list[set[int]] = []
    for m in list(_DATE.finditer(text)):
        day = int(m.group(1) or m.group(4))
        month = _MONTHS.index(m.group(2) or m.group(3)) + 1
        found.append({i for i, s in starts.items() if (s.month, s.day) == (month, day)})
        text = _blank(text, m)
    return text, found


def _take_days(
    text: str, starts: dict[int, datetime], now: datetime | None
) -> tuple[str, list[set[int]]]:
    """Find weekdays, "tomorrow" (needs `now`) and "the 17th", as sets of matching options."""
    found: list[set[int]] = []
    weekdays = list(_WEEKDAYS.finditer(text))
    if weekdays:  # "tuesday or wednesday" allows either
        allowed = {next(i for i, g in enumerate(m.groups()) if g) for m in weekdays}
        found.append({i for i, s in starts.items() if s.weekday() in allowed})
        for m in weekdays:
            text = _blank(text, m)
    for m in list(_RELATIVE_DAY.finditer(text)):
        if now is not None and now.utcoffset() is not None and starts:
            ahead = 0 if m.group(1) in ("today", "tonight") else 1
            zone = next(iter(starts.values())).tzinfo
            day = (now.astimezone(zone) + timedelta(days=ahead)).date()
            found.append({i for i, s in starts.items() if s.date() == day})
        text = _blank(text, m)
    for m in list(_DAY_OF_MONTH.finditer(text)):
        found.append({i for i, s in starts.items() if s.day == int(m.group(1))})
        text = _blank(text, m)
    return text, found


def _by_label(text: str, options: Sequence[Offered]) -> set[int] | None:
    """Options whose labels share the most distinguishing words with the text, or None."""
    words = [w for w in _words(text) if w not in _PICK_FILLER]
    if not words:
        return None
    labels = [set(_words(o.label)) for o in options]
    hits = [0] * len(options)
    for word in words:
        having = {i for i, label in enumerate(labels) if any(_similarity(w, word) for w in label)}
        if 0 < len(having) < len(options):
            for i in having:
                hits[i] += 1
    most = max(hits)
    if most == 0:
        return None
    return {i for i, h in enumerate(hits) if h == most}


def _index_set(picks: list[int], starts: dict[int, datetime], count: int) -> set[int]:
    out: set[int] = set()
    for n in picks:
        if n == -1 and starts:
            out.add(min(starts, key=lambda i: starts[i]))
        elif n == -2 and starts:
            out.add(max(starts, key=lambda i: starts[i]))
        elif 1 <= n <= count:
            out.add(n - 1)
    return out


def pick_option(
    text: str,
    options: Sequence[Offered],
    *,
    option_id: str | None = None,
    zone: tzinfo | None = None,
    now: datetime | None = None,
) -> Offered | None:
    """Find the one offered option a reply picks; None when nothing or several fit.

    Read, in order: a button id; the label echoed back; times ("the 3:30 one", "15:30",
    "half past 3", "3pm"); option numbers ("2", "#2", "the second", "last"); days ("the
    tuesday one", "tomorrow" when `now` is given, "the 17th", "nov 17"); label words ("the
    one with Alex"). Everything said must agree. A bare number no larger than the number of
    options is an index ("3" is the third option); a larger one, up to 23, is an hour.
    """
    opts = list(options)
    if not opts:
        return None
    if option_id is not None:
        for option in opts:
            if option.id == option_id:
                return option
    said = normalise(text)
    if not said:
        return None
    for option in opts:
        if normalise(option.label) == said:
            return option
    starts = {
        i: (o.start.astimezone(zone) if zone else o.start)
        for i, o in enumerate(opts)
        if o.start is not None and o.start.utcoffset() is not None
    }
    rest = text[:_CAP].lower().translate(_APOSTROPHES)
    constraints: list[set[int]] = []
    rest, clocks = _take_clocks(rest)
    rest, dates = _take_dates(rest, starts)
    rest, picks, hours = _take_index(rest, len(opts))
    rest, days = _take_days(rest, starts, now)
    constraints += [_at_clock(starts, c) for c in clocks + hours]
    constraints += dates + days
    if picks:
        constraints.append(_index_set(picks, starts, len(opts)))
    labelled = _by_label(rest, opts)
    if labelled is not None:
        constraints.append(labelled)
    if not constraints:
        return _by_length(text, opts)
    chosen = set(range(len(opts))).intersection(*constraints)
    return opts[chosen.pop()] if len(chosen) == 1 else None


def _by_length(text: str, opts: list[Offered]) -> Offered | None:
    """ "the long one", "the shorter": the option whose label states the longer (shorter)
    duration, among versions of one service ("Massage (30 min)", "Massage (60 min)")."""
    words = _words(text)
    if not (_LONGER | _SHORTER).intersection(words) or len(opts) < 2:
        return None
    named = tuple(Named(o.id, o.label) for o in opts)
    sized = _by_size(words, named)
    if len(sized) != 1:
        return None
    return next(o for o in opts if o.id == sized[0].key)


# --------------------------------------------------------------------------- personal details

_NAME_WORD = r"[^\W\d_]+(?:['\-][^\W\d_]+)*\.?"
_INTRO = re.compile(
    r"(?:^|\b)(?:my name(?:'s| is)|(?<!his )(?<!her )(?<!their )(?<!'s )(?:name's|names"
    r"|name is|name:)|i'm|i am|im|this is|it's|its|it is|call me)\s+"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}})",
    re.I,
)
_HERE = re.compile(
    rf"(?:^|[,.;:!?\-–—(]\s*)(?:(?:hi|hey|hello|hiya)\W+)?"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD})?)\s+here\b",
    re.I,
)
# A signature at the very end: "... friday at 3 - Robin Vale", "... at 3? thanks, Robin".
_SIGN_OFF = re.compile(
    rf"(?:(?<=\s)|(?<=[,.;!?]))(?:[-–—~]+|(?:best|regards|kind regards|love)[,!.]"
    rf"|(?:(?:many )?thanks|thank you|thx|cheers|ta)(?: so much| a lot| again| in advance)?\W*)"
    rf"\s*"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})[\s.!]*$",
    re.I,
)
_SENTENCE_START = re.compile(r"^\W*(?:(?:hi|hey|hello|hiya|yes|yeah|ok)\W+)*$", re.I)
# "haircut friday - it's Hana": after a break in the sentence "it's" introduces again.
_AFTER_BREAK = re.compile(r"[,.;:!?\-–—(]\s*$")
# Words that end a name or show the intro was not one: "I'm around 3", "Ana Lee btw",
# "this is urgent", "I am Priya's client".
_NOT_NAME_WORDS = _wordset(
    """urgent important emergency quick around about approximately roughly almost nearly
    probably kinda sorta pretty quite so very client customer regular member patient friend
    mum mom dad son daughter wife husband partner kid kids child boy girl baby btw lol fyi
    asap xx x tho though then and or but on at in by for from to with your ur"""
)
_SYMBOLS = re.compile(r"[^\w\s'\-.,!?;:]")
_NAME_PARTICLES = frozenset({"van", "von", "de", "da", "del", "der", "di", "du", "la", "le"})
_NOT_A_NAME = re.compile(r"@|https?:|www\.|\.(?:com|org|net|io)\b|\d", re.I)
_FILLER_EDGES = re.compile(
    r"^(?:(?:hi|hey|hello|hiya|ok|okay|sure|yes|yeah)\b\W*)+"
    r"|(?:\W*\b(?:thanks|thank you|thx|cheers|please|pls|here))+\W*$",
    re.I,
)


def _name_word_ok(word: str, *, reply: bool, extra: frozenset[str]) -> bool:
    """Tell whether one word can be part of a person's name."""
    low = word.lower().rstrip(".").replace("\u2019", "'")
    if low in extra or len(low) > 30:
        return False
    if low in _COMMON_WORDS:
        capitalised = word[:1].isupper() and not word.isupper()
        return low in _NAME_WORDS_TOO and (reply or capitalised)
    # "i'm looking", "this is booked": not names, even if the word is not in our lists
    return reply or not word.islower() or not re.search(r"(?:ing|ed|ly)$", low)


def _title(word: str) -> str:
    if not (word.islower() or word.isupper()):
        return word  # the customer's own capitals: McDonald, DeShawn
    parts = re.split(r"(['\-])", word.lower())
    return "".join(p[:1].upper() + p[1:] for p in parts)


def _format_name(words: list[str]) -> str:
    out = [_title(words[0])]
    for word in words[1:]:
        low = word.lower()
        out.append(low if low in _NAME_PARTICLES and word.islower() else _title(word))
    return " ".join(out)


def extract_name(text: str) -> str | None:
    """Find a name the customer introduces themselves with ("I'm Jane", "Jane here")."""
    head = text[:_CAP].translate(_APOSTROPHES)
    for m in (*_INTRO.finditer(head), *_HERE.finditer(head)):
        intro = m.group(0).split()[0].lower()
        before = head[: m.start()]
        if (
            intro in ("it's", "its", "it")
            and not _SENTENCE_START.match(before)
            and not _AFTER_BREAK.search(before)
        ):
            continue  # "it's" mid-sentence is rarely an introduction
        words: list[str] = []
        for word in m.group("name").split():
            low = word.lower().rstrip(".,")
            if low in _NOT_NAME_WORDS or low.endswith("'s"):
                break  # "Ana Lee btw", "Priya's client"
            if not _name_word_ok(word, reply=False, extra=frozenset()):
                break
            words.append(word.rstrip("."))
        if words and len("".join(words)) >= 2:
            return _format_name(words)
    return _signed(head)


_NOT_SIGNATURES = (
    _LONGER
    | _SHORTER
    | _wordset(
        "noon midday midnight whenever anytime asap later soon earlier morning afternoon evening"
    )
)


def _signed(head: str) -> str | None:
    """The name a message is signed with, capitalised as names are ("... - Robin")."""
    m = _SIGN_OFF.search(head)
    if m is None:
        return None
    words = m.group("name").split()
    for word in words:
        low = word.lower().rstrip(".")
        if not word[:1].isupper() or low in _NOT_NAME_WORDS or low.endswith("'s"):
            return None
        if not _name_word_ok(word, reply=False, extra=frozenset()) or low in _FUNCTION_WORDS:
            return None
        if low in _NOT_SIGNATURES or _WEEKDAYS.fullmatch(low) or low in MONTHS or low in _MONTHS:
            return None  # "haircut - Sat", "cut - Noon": when, not who
    return _format_name([w.rstrip(".") for w in words]) if len("".join(words)) >= 2 else None


_RELATIONS = (
    r"son|daughter|kid|child|boy|girl|little one|wife|husband|partner|mum|mom|mother|dad"
    r"|father|friend|grandson|granddaughter|grandma|grandpa|nephew|niece|brother|sister"
)
_ATTENDEE = re.compile(
    rf"\b(?P<for>for )?my (?:little |eldest |oldest |youngest |baby |teenage )?(?:{_RELATIONS})"
    rf"\b,?\s+(?:(?:is|called|named)\s+)?(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD})?)",
    re.I,
)


# "my husband wants a trim, he's called Tom", "for my daughter - her name is Ivy"
_THEIR_INTRO = re.compile(
    rf"\b(?:(?:his|her|their) name(?:'s| is)|(?:he|she)(?:'s| is) called|(?:he|she)'s"
    rf"|(?:they're|they are) called|called|named)\s+(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD})?)",
    re.I,
)
_RELATION_WORD = re.compile(rf"\bmy (?:\w+ )?(?:{_RELATIONS})\b", re.I)


def extract_attendee(text: str) -> str | None:
    """Find who a booking is for when it is not the sender ("it's for my son Leo").

    The name must be capitalised unless "for my <relation>" leaves no doubt: in "my son
    needs a trim" nobody is named. "my husband ..., he's called Tom" names him too.
    """
    head = text[:_CAP].translate(_APOSTROPHES)
    direct = _attendee_after_relation(head)
    if direct or not _RELATION_WORD.search(head):
        return direct
    for m in _THEIR_INTRO.finditer(head):
        words: list[str] = []
        for word in m.group("name").split():
            low = word.lower().rstrip(".,")
            if low in _NOT_NAME_WORDS or not word[:1].isupper():
                break
            if not _name_word_ok(word, reply=False, extra=frozenset()):
                break
            words.append(word.rstrip(".,"))
        if words and len("".join(words)) >= 2:
            return _format_name(words)
    return None


def _attendee_after_relation(head: str) -> str | None:
    """ "my son Leo", "for my wife, Mia Ross": the name right after the relation."""
    for m in _ATTENDEE.finditer(head):
        words: list[str] = []
        for word in m.group("name").split():
            low = word.lower().rstrip(".,")
            if low in _NOT_NAME_WORDS or low.endswith("'s"):
                break
            if not m.group("for") and not word[:1].isupper():
                break
            if not _name_word_ok(word, reply=False, extra=frozenset()):
                break
            words.append(word.rstrip(".,"))
        if words and len("".join(words)) >= 2:
            return _format_name(words)
    return None


def clean_name(text: str, *, not_names: Iterable[str] = ()) -> str | None:
    """Tidy a reply to "what's your name?" ("jane smith" -> "Jane Smith"); None if not a name.

    `not_names` adds words that must not be taken for a name, such as the service names.
    """
    head = text[:200].translate(_APOSTROPHES).strip()
    if not head or _NOT_A_NAME.search(head):
        return None
    introduced = extract_name(head)
    if introduced:
        return introduced
    head = _SYMBOLS.sub(" ", head)  # emoji and the like: "👋 Jane"
    head = _FILLER_EDGES.sub("", head).strip(" \t\r\n.,!;:-")
    words = head.split()
    if not 1 <= len(words) <= 5 or len(head) > 80:
        return None
    extra = frozenset(w for n in not_names for w in normalise(n).split())
    if any(w.lower().endswith("'s") for w in words):
        return None  # "he's called Max", "that's me": a contraction is never a name's word
    for word in words:
        if not re.fullmatch(_NAME_WORD, word) or not _name_word_ok(word, reply=True, extra=extra):
            return None
    if len(head.replace(" ", "")) < 2 or yes_no(head) is not None:
        return None
    return _format_name([w.rstrip(".") if len(w) > 2 else w for w in words])


_EMAIL = re.compile(
    r"(?<![\w.+-])([\w.!#$%&'*+/=?^`{|}~-]+)@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z]{2,24})\b",
    re.I,
)


def extract_email(text: str) -> str | None:
    """Find an email address in a message, with its domain lower-cased."""
    m = _EMAIL.search(text[:_RAW_CAP])
    if not m:
        return None
    local = m.group(1).strip(".")
    return f"{local}@{m.group(2).lower()}" if local and ".." not in local else None


def extract_phone(text: str, default_region: str = "US") -> str | None:
    """Find a valid phone number in a message, in E.164 ("+12125550123")."""
    try:
        for m in phonenumbers.PhoneNumberMatcher(text[:_CAP], default_region.upper()):
            return phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # phonenumbers' own guards vary across versions; a bad region, say
        return None
    return None


_HOUSE_NUMBER = re.compile(r"(?<![\w-])\d{1,6}[a-z]?(?:[-/]\d{1,5}[a-z]?)?\s+[^\W\d_]", re.I)
_STREET_TYPE = (
    r"street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl"
    r"|close|crescent|cres|terrace|ter|square|sq|highway|hwy|parkway|pkwy|circle|cir|row|walk"
    r"|grove|gardens|gdns|hill|park|mews|broadway|trail|trl|pike|alley|plaza|parade|rise|green"
)
_STREET = re.compile(rf"\b(?:{_STREET_TYPE})\b\.?", re.I)
_US_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
_UK_POSTCODE = re.compile(r"\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b", re.I)
_CA_POSTCODE = re.compile(r"\b[a-z]\d[a-z]\s?\d[a-z]\d\b", re.I)
_UNIT_WORDS = frozenset({"apt", "apartment", "unit", "suite", "ste", "flat", "floor", "fl", "no"})


def address_problems(text: str) -> list[str]:
    """List what a street address lacks: "a house number", "a street name", "a town or ZIP code".

    Heuristics: a house number is digits followed by a word ("214 Grand", "12a High"); a
    street is a street-type word (St, Road, Ave...) or any word after the house number; a
    town is a ZIP or postcode, or words after the street (after a comma or the street type).
    """
    head = text[:_CAP]
    problems: list[str] = []
    number = _HOUSE_NUMBER.search(head)
    street = _STREET.search(head)
    if number is None:
        problems.append("a house number")
    words_after_number = number and [
        w
        for w in re.findall(r"[^\W\d_]+", head[number.end() - 1 :])
        if w.lower() not in _UNIT_WORDS
    ]
    if street is None and not words_after_number:
        problems.append("a street name")
    if not _has_town(head, number, street):
        problems.append("a town or ZIP code")
    return problems


def _has_town(head: str, number: re.Match[str] | None, street: re.Match[str] | None) -> bool:
    """Tell whether a town, ZIP or postcode follows the street part of an address."""
    if _US_ZIP.search(head[number.end() :] if number else head):
        return True
    if _UK_POSTCODE.search(head) or _CA_POSTCODE.search(head):
        return True
    after = number.end() if number else 0
    if street and street.end() > after:
        tail = head[street.end() :]
    elif "," in head[after:]:
        tail = head[after:].split(",", 1)[1]
    else:
        return False
    return any(len(w) >= 2 and w.lower() not in _UNIT_WORDS for w in re.findall(r"[^\W\d_]+", tail))
