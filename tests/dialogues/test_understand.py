"""Tests for conversations.nlu.understand: what a customer's words mean."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.nlu.understand import (
    PRECEDENCE,
    Intent,
    Named,
    Offered,
    address_problems,
    clean_name,
    extract_email,
    extract_name,
    extract_phone,
    find_services,
    find_staff,
    intents,
    is_opt_in_keyword,
    is_opt_out_keyword,
    looks_like_booking,
    match_one,
    normalise,
    pick_option,
    primary_intent,
    to_named,
    wants_anyone,
    yes_no,
)

NEW_YORK = ZoneInfo("America/New_York")

# The demo salon (business.toml), with the aliases its owner wrote.
SALON = (
    Named("haircut", "Haircut", ("cut", "trim", "hair cut", "mens cut", "womens cut")),
    Named("colour", "Colour", ("color", "hair colour", "hair color", "dye", "highlights")),
    Named("beard-trim", "Beard trim", ("beard", "beard tidy", "shave")),
    Named(
        "massage-30",
        "Massage (30 min)",
        ("short massage", "30 minute massage", "half hour massage"),
    ),
    Named(
        "massage-60",
        "Massage (60 min)",
        ("hour massage", "60 minute massage", "full massage", "long massage"),
    ),
    Named("facial", "Facial", ("skin treatment", "face treatment")),
    Named(
        "home-haircut",
        "Home visit haircut",
        ("home visit", "house call", "haircut at home", "mobile haircut"),
    ),
)
# The same services with names only: nothing says which massage "massage" means.
PLAIN = (
    Named("haircut", "Haircut"),
    Named("colour", "Colour"),
    Named("beard-trim", "Beard trim"),
    Named("massage-30", "Massage 30 min"),
    Named("massage-60", "Massage 60 min"),
    Named("facial", "Facial"),
    Named("home-haircut", "Home visit haircut"),
)
STAFF = (
    Named("sam", "Sam Rivera"),
    Named("alex", "Alex Chen"),
    Named("priya", "Priya Patel"),
    Named("jordan", "Jordan Lee"),
)


ASK = "ask"  # expected: no single match, the two massages to ask about


def _key(item: Named | None) -> str | None:
    return item.key if item else None


# --------------------------------------------------------------------------- services

SERVICE_CASES = [
    ("haircut", "haircut"),
    ("Haircut", "haircut"),
    ("HAIRCUT!!!", "haircut"),
    ("hiarcut", "haircut"),
    ("haircutt", "haircut"),
    ("hair cut", "haircut"),
    ("hair-cut please", "haircut"),
    ("haircuts", "haircut"),
    ("can I get a haircut with sam tomorrow", "haircut"),
    ("just a trim", "haircut"),
    ("mens cut", "haircut"),
    ("colour", "colour"),
    ("color", "colour"),
    ("I want my hair colored... I mean a hair color", "colour"),
    ("highlights on saturday", "colour"),
    ("beard", "beard-trim"),
    ("beard trim", "beard-trim"),
    ("beardtrim", "beard-trim"),
    ("a shave", "beard-trim"),
    ("massage", ASK),
    ("massge", ASK),
    ("a massage on friday", ASK),
    ("60 min massage", "massage-60"),
    ("massage 60", "massage-60"),
    ("an hour massage", "massage-60"),
    ("1 hour massage", "massage-60"),
    ("the long massage", "massage-60"),
    ("a quick massage", "massage-30"),
    ("30 minute massage", "massage-30"),
    ("massage for 30 mins", "massage-30"),
    ("half hour massage", "massage-30"),
    ("short massage", "massage-30"),
    ("facial", "facial"),
    ("facal", "facial"),
    ("a face treatment", "facial"),
    ("home visit", "home-haircut"),
    ("home haircut", "home-haircut"),
    ("home visit haircut", "home-haircut"),
    ("can you do a haircut at home?", "home-haircut"),
    ("house call", "home-haircut"),
    ("yes", None),
    ("tomorrow", None),
    ("3pm", None),
    ("hello", None),
    ("send me a message", None),
    ("can you manage tuesday", None),
    ("I'll share the link", None),
    ("I'm at home tomorrow", None),
    ("", None),
    ("😀😀", None),
]


@pytest.mark.parametrize(("text", "expected"), SERVICE_CASES)
def test_a_service_is_found_by_name_alias_or_typo(text: str, expected: str | None) -> None:
    match = find_services(text, SALON)
    if expected == ASK:
        assert match.item is None
        assert [c.key for c in match.candidates] == ["massage-30", "massage-60"]
    else:
        assert _key(match.item) == expected
        assert not match.ambiguous


def test_an_owner_alias_settles_a_tie() -> None:
    hour = Named("massage-60", "Massage (60 min)", ("massage",))
    services = (*SALON[:4], hour)
    assert _key(find_services("massage", services).item) == "massage-60"
    assert _key(find_services("30 minute massage", services).item) == "massage-30"


PLAIN_CASES = [
    ("massage", None, {"massage-30", "massage-60"}),
    ("massge please", None, {"massage-30", "massage-60"}),
    ("massage 60", "massage-60", None),
    ("60 min massage", "massage-60", None),
    ("massage 30 minutes", "massage-30", None),
    ("hour massage", "massage-60", None),
    ("the long massage", "massage-60", None),
    ("a quick massage", "massage-30", None),
    ("beard", "beard-trim", None),
    ("haircut", "haircut", None),
    ("home visit", "home-haircut", None),
    ("cut and colour", "colour", None),  # "cut" is only an alias in the demo salon
    ("haircut and beard trim", None, {"haircut", "beard-trim"}),
]


@pytest.mark.parametrize(("text", "expected", "ask"), PLAIN_CASES)
def test_close_names_are_asked_about_and_details_settle_them(
    text: str, expected: str | None, ask: set[str] | None
) -> None:
    match = find_services(text, PLAIN)
    assert _key(match.item) == expected
    if ask:
        assert match.ambiguous
        assert {c.key for c in match.candidates} == ask
    if expected:
        assert match.candidates == (match.item,)


def test_an_ambiguous_match_lists_the_best_candidate_first() -> None:
    items = (Named("a", "Gel nails"), Named("b", "Gel nails removal"), Named("c", "Facial"))
    match = match_one("gel nails removal", items)
    assert _key(match.item) == "b"
    match = match_one("gel", items)
    assert match.item is None and match.candidates == ()


def test_margin_decides_how_close_counts_as_a_tie() -> None:
    items = (Named("a", "Massage 30 min"), Named("b", "Massage 60 min"))
    assert match_one("massage", items).ambiguous
    # a typo of one name (90) against an exact alias of another (100)
    items = (Named("a", "Facial"), Named("b", "Face treatment", ("facials",)))
    assert match_one("facials", items, margin=15).ambiguous
    assert _key(match_one("facials", items, margin=8).item) == "b"


def test_match_one_takes_records_with_list_aliases() -> None:
    class Record:
        key = "dye"
        name = "Colour"
        aliases = ["dye job"]

    assert to_named(Record()) == Named("dye", "Colour", ("dye job",))
    assert _key(find_services("a dye job", [Record()]).item) == "dye"


# --------------------------------------------------------------------------- staff

STAFF_CASES = [
    ("with Sam", "sam"),
    ("sam", "sam"),
    ("Sam R", "sam"),
    ("sam rivera", "sam"),
    ("can I get a haircut with sam tomorrow", "sam"),
    ("alex", "alex"),
    ("Alex Chen please", "alex"),
    ("priya", "priya"),
    ("pria", "priya"),
    ("ms patel", "priya"),
    ("jordon", "jordan"),
    ("jordan lee", "jordan"),
    ("anyone", None),
    ("same time as last week", None),
    ("tomorrow", None),
]


@pytest.mark.parametrize(("text", "expected"), STAFF_CASES)
def test_a_staff_member_is_found_by_first_name_last_name_or_initial(
    text: str, expected: str | None
) -> None:
    match = find_staff(text, STAFF)
    assert _key(match.item) == expected
    if match.item:
        assert match.item in STAFF


def test_two_staff_with_one_first_name_are_asked_about() -> None:
    staff = (*STAFF, Named("sam-j", "Sam Jones"))
    match = find_staff("sam", staff)
    assert match.ambiguous and {c.key for c in match.candidates} == {"sam", "sam-j"}
    assert _key(find_staff("sam j", staff).item) == "sam-j"


ANYONE_CASES = [
    ("anyone", True),
    ("any", True),
    ("Anybody is fine", True),
    ("whoever", True),
    ("whoever's free", True),
    ("I don't mind", True),
    ("dont mind", True),
    ("no preference", True),
    ("doesn't matter", True),
    ("first available", True),
    ("either", True),
    ("sam", False),
    ("no", False),
    ("tomorrow at 3", False),
]


@pytest.mark.parametrize(("text", "expected"), ANYONE_CASES)
def test_no_staff_preference_is_recognised(text: str, expected: bool) -> None:
    assert wants_anyone(text) is expected


# --------------------------------------------------------------------------- intents

INTENT_CASES = [
    ("I'd like to book", Intent.BOOK),
    ("need an appointment", Intent.BOOK),
    ("can I come in", Intent.BOOK),
    ("do you have anything friday", Intent.BOOK),
    ("any openings this week?", Intent.BOOK),
    ("appointment", Intent.BOOK),
    ("can I get an apointment", Intent.BOOK),
    ("hi I'd like to book a haircut", Intent.BOOK),
    ("move my appointment", Intent.RESCHEDULE),
    ("change the time", Intent.RESCHEDULE),
    ("resched", Intent.RESCHEDULE),
    ("reschedual pls", Intent.RESCHEDULE),
    ("can we do later", Intent.RESCHEDULE),
    ("push it back an hour", Intent.RESCHEDULE),
    ("R", Intent.RESCHEDULE),
    ("I need to reschedule, I can't make it tomorrow", Intent.RESCHEDULE),
    ("cancel", Intent.CANCEL),
    ("CANCEL", Intent.CANCEL),
    ("cancle", Intent.CANCEL),
    ("cancel my appointment", Intent.CANCEL),
    ("I can't make it", Intent.CANCEL),
    ("won't be able to come", Intent.CANCEL),
    ("x", Intent.CANCEL),
    ("when is my appointment", Intent.MY_APPOINTMENTS),
    ("my bookings", Intent.MY_APPOINTMENTS),
    ("what have I got booked", Intent.MY_APPOINTMENTS),
    ("do I have an appointment next week?", Intent.MY_APPOINTMENTS),
    ("pay", Intent.PAY),
    ("pay now", Intent.PAY),
    ("send me the payment link", Intent.PAY),
    ("pay my bill", Intent.PAY),
    ("what do I owe", Intent.BALANCE),
    ("my balance", Intent.BALANCE),
    ("how much do I owe", Intent.BALANCE),
    ("how much do I have to pay", Intent.BALANCE),
    ("send me my invoice", Intent.INVOICE),
    ("receipt", Intent.INVOICE),
    ("can I get a reciept", Intent.INVOICE),
    ("help", Intent.HELP),
    ("?", Intent.HELP),
    ("what can you do", Intent.HELP),
    ("menu", Intent.HELP),
    ("info", Intent.HELP),
    ("talk to a person", Intent.HUMAN),
    ("speak to someone", Intent.HUMAN),
    ("human", Intent.HUMAN),
    ("agent", Intent.HUMAN),
    ("call me", Intent.HUMAN),
    ("real person please", Intent.HUMAN),
    ("STOP", Intent.STOP),
    ("stop.", Intent.STOP),
    ("Unsubscribe", Intent.STOP),
    ("please stop texting me", Intent.STOP),
    ("START", Intent.START),
    ("unstop", Intent.START),
    ("hi", Intent.GREETING),
    ("hello", Intent.GREETING),
    ("hey there", Intent.GREETING),
    ("good morning", Intent.GREETING),
    ("thanks", Intent.THANKS),
    ("thank you!", Intent.THANKS),
    ("cheers", Intent.THANKS),
    ("go back", Intent.BACK),
    ("back", Intent.BACK),
    ("previous", Intent.BACK),
    ("undo", Intent.BACK),
    ("start over", Intent.RESTART),
    ("restart", Intent.RESTART),
    ("never mind", Intent.RESTART),
    ("nvm", Intent.RESTART),
    ("forget it", Intent.RESTART),
    ("yes", Intent.YES),
    ("ok thanks", Intent.YES),
    ("no thanks", Intent.NO),
    ("nope", Intent.NO),
    ("asdfgh", Intent.UNKNOWN),
    ("", Intent.UNKNOWN),
    ("haircut tomorrow", Intent.UNKNOWN),  # a booking only given the services: see below
    ("call me Jane", Intent.UNKNOWN),
    ("how much is a haircut", Intent.UNKNOWN),
]


@pytest.mark.parametrize(("text", "expected"), INTENT_CASES)
def test_the_primary_intent_is_what_a_receptionist_would_act_on(
    text: str, expected: Intent
) -> None:
    assert primary_intent(text) == expected
    assert expected in intents(text)


def test_intents_lists_every_reading_and_precedence_covers_them_all() -> None:
    assert intents("hi I'd like to book") == {Intent.GREETING, Intent.BOOK}
    assert intents("pay my bill") == {Intent.PAY, Intent.INVOICE}
    assert intents("nonsense words") == {Intent.UNKNOWN}
    assert set(PRECEDENCE) == set(Intent)


KEYWORD_CASES = [
    ("STOP", True, False),
    ("stop", True, False),
    ("Stop!", True, False),
    ("  stop. ", True, False),
    ("STOPALL", True, False),
    ("unsubscribe", True, False),
    ("END", True, False),
    ("quit", True, False),
    ("OPTOUT", True, False),
    ("revoke", True, False),
    ("cancel", False, False),  # the appointment, not the carrier's opt-out
    ("stop texting me", False, False),
    ("stop by at 3", False, False),
    ("START", False, True),
    ("unstop", False, True),
    ("Subscribe", False, True),
    ("yes", False, False),
    ("start over", False, False),
]


@pytest.mark.parametrize(("text", "opt_out", "opt_in"), KEYWORD_CASES)
def test_carrier_keywords_are_whole_messages(text: str, opt_out: bool, opt_in: bool) -> None:
    assert is_opt_out_keyword(text) is opt_out
    assert is_opt_in_keyword(text) is opt_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("haircut tomorrow", True),
        ("massage fri after 3", True),
        ("I'd like to book", True),
        ("massage", True),
        ("how much is a haircut?", False),
        ("cancel my haircut", False),
        ("thanks!", False),
    ],
)
def test_a_service_and_a_time_look_like_a_booking(text: str, expected: bool) -> None:
    assert looks_like_booking(text, SALON) is expected


# --------------------------------------------------------------------------- yes / no

YES_NO_CASES = [
    *[
        (t, True)
        for t in (
            "y",
            "Y",
            "yes",
            "Yes!!",
            "YESSS",
            "yeah",
            "yep",
            "yup",
            "sure",
            "sure thing!",
            "ok",
            "okay",
            "k",
            "sounds good",
            "perfect",
            "confirm",
            "book it",
            "do it",
            "\U0001f44d",
            "yes please",
            "correct",
            "that works",
            "ok thanks",
            "no problem",
            "I don't mind",
            "yes I'll be there",
        )
    ],
    *[
        (t, False)
        for t in (
            "n",
            "no",
            "No.",
            "nope",
            "nah",
            "no thanks",
            "not really",
            "don't",
            "\U0001f44e",
            "wrong",
            "neither",
            "that doesn't work",
            "nah I'm good",
        )
    ],
    *[
        (t, None)
        for t in (
            "maybe",
            "what?",
            "yes but at 4pm",
            "no, 4pm instead",
            "ok but can we do friday",
            "can you do it cheaper",
            "not sure",
            "thanks",
            "good morning",
            "yes no",
            "",
            "haircut",
        )
    ],
]


@pytest.mark.parametrize(("text", "expected"), YES_NO_CASES)
def test_yes_and_no_are_read_in_their_everyday_forms(text: str, expected: bool | None) -> None:
    assert yes_no(text) is expected


# --------------------------------------------------------------------------- picking options

OPTIONS = (
    Offered("a", "Tue 17 Nov 15:30 with Sam", datetime(2026, 11, 17, 15, 30, tzinfo=NEW_YORK)),
    Offered("b", "Tue 17 Nov 16:00 with Alex", datetime(2026, 11, 17, 16, 0, tzinfo=NEW_YORK)),
    Offered("c", "Wed 18 Nov 10:15 with Sam", datetime(2026, 11, 18, 10, 15, tzinfo=NEW_YORK)),
)
PICK_CASES = [
    ("1", "a"),
    ("2", "b"),
    ("#2", "b"),
    ("option 2", "b"),
    ("number 2", "b"),
    ("two", "b"),
    ("the second", "b"),
    ("2nd", "b"),
    ("second one", "b"),
    ("first", "a"),
    ("the first one please", "a"),
    ("last", "c"),
    ("the last one", "c"),
    ("3", "c"),  # a number no larger than the options is an index
    ("4", "b"),  # a larger one is an hour: 4 o'clock
    ("10", "c"),
    ("9", None),
    ("the 3:30 one", "a"),
    ("3.30", "a"),
    ("15:30", "a"),
    ("half past 3", "a"),
    ("3:30pm", "a"),
    ("3:30am", None),
    ("4pm", "b"),
    ("the 4 o'clock", "b"),
    ("quarter past 10", "c"),
    ("wednesday", "c"),
    ("the wed one", "c"),
    ("the tuesday one", None),  # two Tuesdays
    ("tuesday with sam", "a"),
    ("the one with Alex", "b"),
    ("alex", "b"),
    ("sam", None),
    ("the 18th", "c"),
    ("nov 18", "c"),
    ("earliest", "a"),
    ("that one", None),
    ("Tue 17 Nov 16:00 with Alex", "b"),
    ("the second one at 3:30", None),  # the two disagree
    ("5", None),
    ("", None),
    ("hmm", None),
]


@pytest.mark.parametrize(("text", "expected"), PICK_CASES)
def test_an_option_is_picked_by_number_time_day_or_label(text: str, expected: str | None) -> None:
    picked = pick_option(text, OPTIONS, zone=NEW_YORK)
    assert (picked.id if picked else None) == expected


def test_a_button_id_wins_over_the_text() -> None:
    assert pick_option("whatever", OPTIONS, option_id="c") == OPTIONS[2]
    assert pick_option("2", OPTIONS, option_id="stale-id") == OPTIONS[1]


def test_times_are_compared_on_the_local_clock_of_the_zone_given() -> None:
    utc = [Offered(o.id, o.label, o.start.astimezone(ZoneInfo("UTC"))) for o in OPTIONS]
    picked = pick_option("15:30", utc, zone=NEW_YORK)
    assert picked is not None and picked.id == "a"
    assert pick_option("15:30", utc) is None  # 20:30 in UTC


def test_today_and_tomorrow_need_the_current_moment() -> None:
    now = datetime(2026, 11, 17, 9, 0, tzinfo=NEW_YORK)
    picked = pick_option("tomorrow", OPTIONS, zone=NEW_YORK, now=now)
    assert picked is not None and picked.id == "c"
    assert pick_option("tomorrow", OPTIONS, zone=NEW_YORK) is None


def test_options_without_times_are_picked_by_label() -> None:
    services = [Offered(s.key, s.name) for s in PLAIN]
    assert pick_option("colour", services) == services[1]
    assert pick_option("the 60 min one", services) == services[4]
    assert pick_option("3pm", services) is None


# --------------------------------------------------------------------------- details

EXTRACT_NAME_CASES = [
    ("I'm Jane", "Jane"),
    ("this is Jane Smith", "Jane Smith"),
    ("my name is jane", "Jane"),
    ("Jane here", "Jane"),
    ("it's Bob", "Bob"),
    ("hi, it's Bob", "Bob"),
    ("Hey this is maria garcia, can I book?", "Maria Garcia"),
    ("I am Jane Smith from Acme", "Jane Smith"),
    ("I'm Jane and I'd like a cut", "Jane"),
    ("Hi I'm Will", "Will"),
    ("my names john", "John"),
    ("call me Jane", "Jane"),
    ("I'm looking for a haircut", None),
    ("I'm good thanks", None),
    ("this is great", None),
    ("i'm free tomorrow", None),
    ("I'm a new customer", None),
    ("Im running late", None),
    ("its fine", None),
    ("book a haircut", None),
]


@pytest.mark.parametrize(("text", "expected"), EXTRACT_NAME_CASES)
def test_a_name_is_taken_from_an_introduction(text: str, expected: str | None) -> None:
    assert extract_name(text) == expected


CLEAN_NAME_CASES = [
    ("jane smith", "Jane Smith"),
    ("Jane", "Jane"),
    ("JANE SMITH", "Jane Smith"),
    ("mary-jane o'brien", "Mary-Jane O'Brien"),
    ("José Álvarez", "José Álvarez"),
    ("ludwig van beethoven", "Ludwig van Beethoven"),
    ("McDonald", "McDonald"),
    ("Jane Smith.", "Jane Smith"),
    ("Jane, thanks", "Jane"),
    ("J. Smith", "J. Smith"),
    ("my name is jane", "Jane"),
    ("\U0001f44b Jane", "Jane"),
    ("will", "Will"),
    ("yes", None),
    ("no", None),
    ("haircut", None),
    ("tomorrow", None),
    ("jane@example.com", None),
    ("http://example.com", None),
    ("Jane 2", None),
    ("a b c d e f", None),
    ("j", None),
    ("what?", None),
    ("I don't know", None),
]


@pytest.mark.parametrize(("text", "expected"), CLEAN_NAME_CASES)
def test_a_name_reply_is_tidied_or_refused(text: str, expected: str | None) -> None:
    assert clean_name(text) == expected


def test_clean_name_refuses_words_the_caller_names() -> None:
    assert clean_name("Balayage") == "Balayage"
    assert clean_name("balayage", not_names=["Balayage", "Colour"]) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane@Example.COM", "jane@example.com"),
        ("mail me at Jane.Doe+x@Gmail.com.", "Jane.Doe+x@gmail.com"),
        ("foo@bar.co.uk thanks", "foo@bar.co.uk"),
        ("no email", None),
        ("a@b", None),
        ("x@@y.com", None),
    ],
)
def test_an_email_is_found_with_a_lower_case_domain(text: str, expected: str | None) -> None:
    assert extract_email(text) == expected


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("call me on 212-555-0123", "US", "+12125550123"),
        ("(212) 555 0199", "US", "+12125550199"),
        ("my number is 2125550123", "US", "+12125550123"),
        ("+44 7911 123456", "US", "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("07911 123456", "US", None),
        ("123", "US", None),
        ("no number", "US", None),
        ("2125550123", "not-a-region", None),
    ],
)
def test_a_phone_number_comes_back_in_e164(text: str, region: str, expected: str | None) -> None:
    assert extract_phone(text, default_region=region) == expected


NUMBER, STREET, TOWN = "a house number", "a street name", "a town or ZIP code"
ADDRESS_CASES = [
    ("214 Grand St, New York, NY 10013", []),
    ("12 High Street, Leeds LS1 4AB", []),
    ("12 Broadway, New York", []),
    ("Flat 3, 12 High Street, Leeds", []),
    ("123 Main Street Springfield", []),
    ("45 Elm Road 90210", []),
    ("1600 Pennsylvania Avenue NW, Washington, DC 20500", []),
    ("214 Grand St", [TOWN]),
    ("214 Grand St Apt 3", [TOWN]),
    ("Grand St, New York", [NUMBER]),
    ("214", [NUMBER, STREET, TOWN]),
    ("New York", [NUMBER, STREET, TOWN]),
    ("my house", [NUMBER, STREET, TOWN]),
    ("", [NUMBER, STREET, TOWN]),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESS_CASES)
def test_address_problems_say_what_is_missing(text: str, expected: list[str]) -> None:
    assert address_problems(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Héllo,   WORLD!! ", "hello world"),
        ("I’m at 3:30 – ok?", "i'm at 3:30 ok"),
        ("'quoted' note: yes", "quoted note yes"),
        ("snake_case\ttab\nnewline", "snake case tab newline"),
        ("😀", ""),
        ("x" * 900, "x" * 500),
    ],
)
def test_normalise_keeps_words_digits_and_in_word_marks(text: str, expected: str) -> None:
    assert normalise(text) == expected


# --------------------------------------------------------------------------- robustness

ANY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", categories=None, exclude_categories=("Cs",)),
    max_size=10_000,
)
NASTY = st.sampled_from(
    [
        "",
        "\x00\x01\x1b[31m",
        "\u202eerif\u202c",
        "مرحبا أريد حجز",
        "שלום",
        "🙂" * 2000,
        "9" * 10_000,
        "@" * 5000,
        "st " * 3000,
        "every " * 2000,
        "3:30" * 2000,
    ]
)


def _everything(text: str) -> None:
    find_services(text, SALON)
    find_staff(text, STAFF)
    match_one(text, PLAIN, cutoff=0, margin=100)
    wants_anyone(text)
    intents(text)
    primary_intent(text)
    looks_like_booking(text, SALON)
    is_opt_in_keyword(text)
    is_opt_out_keyword(text)
    yes_no(text)
    pick_option(text, OPTIONS, option_id=text, zone=NEW_YORK, now=OPTIONS[0].start)
    pick_option(text, [Offered(text, text)])
    extract_name(text)
    clean_name(text, not_names=[text])
    extract_email(text)
    extract_phone(text)
    address_problems(text)
    normalise(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_TEXT, NASTY, st.lists(NASTY).map(" ".join)))
def test_no_public_function_raises_on_any_text(text: str) -> None:
    _everything(text)
    assert len(normalise(text)) <= 500


def test_typical_messages_with_a_typo_are_all_read_right() -> None:
    # What reading them costs (about 0.3 ms a message) is measured by bench/reading.py.
    texts = [f"can I get a hiarcut with sam {i} on friday at {i % 12}pm, ok?" for i in range(300)]
    for text in texts:
        service, staff = find_services(text, SALON), find_staff(text, STAFF)
        assert service is not None and service.item.key == "haircut", text
        assert staff is not None and staff.item.key == "sam", text
        assert looks_like_booking(text, SALON), text


def test_the_case_tables_are_large() -> None:
    tables = (SERVICE_CASES, PLAIN_CASES, STAFF_CASES, ANYONE_CASES, INTENT_CASES)
    tables += (KEYWORD_CASES, YES_NO_CASES, PICK_CASES, EXTRACT_NAME_CASES, CLEAN_NAME_CASES)
    tables += (ADDRESS_CASES,)
    assert sum(len(t) for t in tables) >= 150
