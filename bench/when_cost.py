"""Benchmark: what reading a customer's "when" costs, and how often it is right.

Times conversations.when.parse_when over the phrase table in tests/when_phrases.py (warm,
many repetitions) against dateparser.parse alone on the same phrases, and scores both
against the table's expected answers. Prints Markdown tables.

    .venv/bin/python bench/when_cost.py
    .venv/bin/python bench/when_cost.py --reps 50

dateparser alone is scored leniently: a window answer counts when its single datetime
falls anywhere inside the expected window, a None answer when it also returns None.
The table is the one parse_when was built against, so its own score is a regression
check, not an independent accuracy estimate.

It then runs the public part of the Schema-Guided Dialogue corpus (``sgd-when``: real booking
sentences nobody here wrote) when it is present: ``$SLOTBOT_SGD_DIR``, else
``../shared/data/sgd-when/`` beside the repository root (or beside the folder holding a
worktree). It scores them with the corpus's own ``score.py`` judge, times parse_when on each
whole sentence (dateparser on a sample), and counts invented times: exact answers whose hour
is not written in the sentence (``tests/when_phrases.hour_is_written``). Without the corpus
it says so and skips that part.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_phrases() -> ModuleType:
    """Import tests/when_phrases.py by path (tests/ is not a package)."""
    path = ROOT / "tests" / "when_phrases.py"
    spec = importlib.util.spec_from_file_location("when_phrases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["when_phrases"] = module
    spec.loader.exec_module(module)
    return module


def dateparser_alone(text: str, now: datetime) -> datetime | None:
    """dateparser configured as recommended: English only, future, relative to local now."""
    import dateparser

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    return dateparser.parse(text, languages=["en"], settings=settings)


def dateparser_right(case: Any, got: datetime | None) -> bool:
    """Score one dateparser answer against the expected one."""
    if case.start is None or got is None:
        return case.start is None and got is None
    moment = got.replace(tzinfo=case.moment(case.start).tzinfo, second=0, microsecond=0)
    start = case.moment(case.start)
    if case.exact:
        return moment == start
    return start <= moment < case.moment(case.end)


def samples(fn: Callable[[str, datetime], object], cases: list[Any], nows: dict, reps: int) -> list:
    """Per-call wall times in microseconds, each phrase warmed once then called reps times."""
    out: list[float] = []
    for case in cases:
        now = nows[case.now]
        fn(case.text, now)
        for _ in range(reps):
            started = time.perf_counter_ns()
            fn(case.text, now)
            out.append((time.perf_counter_ns() - started) / 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def sgd_dir() -> Path | None:
    """Where the public sgd-when corpus is, if anywhere."""
    env = os.environ.get("SLOTBOT_SGD_DIR")  # when set, the only place looked at
    candidates = (
        [Path(env)]
        if env
        else [
            ROOT.parent / "shared/data/sgd-when",
            ROOT.parent.parent / "shared/data/sgd-when",
        ]
    )
    for folder in candidates:
        if (folder / "score.py").is_file() and (folder / "cases_train.json").is_file():
            return folder
    return None


def load_module(name: str, path: Path) -> ModuleType:
    """Import a file by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus(phrases: ModuleType, when: ModuleType, reps: int, dp_every: int) -> None:
    """Score, time and check parse_when on the public sgd-when corpus when it is present."""
    folder = sgd_dir()
    if folder is None:
        print(
            "\nsgd-when corpus not found (set SLOTBOT_SGD_DIR or put it in ../shared/data/): skipped"
        )
        return
    score = load_module("sgd_score", folder / "score.py")
    cases, now = score.CASES, score.NOW
    ok: dict[str, int] = {}
    total: dict[str, int] = {}
    invented: list[str] = []
    for case in cases:
        kind, text = case["kind"], case["phrase"]
        got = when.parse_when(text, now)
        good, _ = score.judge(got, kind, case["spec"], text)
        total[kind] = total.get(kind, 0) + 1
        ok[kind] = ok.get(kind, 0) + bool(good)
        if got is not None and got.exact:
            local = got.start.astimezone(now.tzinfo)
            if not phrases.hour_is_written(text, local.hour, local.minute):
                invented.append(f"{text!r} -> {got.label}")
    texts = [c["phrase"] for c in cases]
    ours = [t for text in texts for t in timed(when.parse_when, text, now, reps)]
    sample = texts[::dp_every]
    theirs = [t for text in sample for t in timed(score.dateparser_parse_when, text, now, 1)]
    dp_right = sum(
        bool(
            score.judge(
                score.dateparser_parse_when(c["phrase"], now), c["kind"], c["spec"], c["phrase"]
            )[0]
        )
        for c in cases[::dp_every]
        if c["kind"] in score.SCORED
    )
    dp_n = sum(1 for c in cases[::dp_every] if c["kind"] in score.SCORED)
    scored = sum(ok.get(k, 0) for k in score.SCORED)
    n = sum(total.get(k, 0) for k in score.SCORED)
    print(
        f"\nsgd-when public corpus ({folder}): {len(cases)} sentences, now {now:%a %Y-%m-%d %H:%M}\n"
    )
    print("| group | parse_when right |")
    print("|---|---:|")
    for kind in (*score.SCORED, "time"):
        if total.get(kind):
            k, m = ok[kind], total[kind]
            print(f"| {score.TITLES[kind]} | {k}/{m} ({k / m:.1%}) |")
    print(f"| **scored (at + win + none)** | **{scored}/{n} ({scored / n:.1%})** |")
    print(f"\ninvented times (exact answers whose hour is not written): {len(invented)}")
    for line in invented[:20]:
        print(f"  {line}")
    print("\n| reader, whole corpus sentences | p50 µs | p99 µs | mean µs | scored right |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| parse_when (x{reps}, all {len(texts)}) | {percentile(ours, 50):.1f} "
        f"| {percentile(ours, 99):.1f} | {statistics.fmean(ours):.1f} | {scored / n:.1%} |"
    )
    print(
        f"| dateparser.parse alone (1 in {dp_every}, {len(sample)}) | {percentile(theirs, 50):.1f} "
        f"| {percentile(theirs, 99):.1f} | {statistics.fmean(theirs):.1f} "
        f"| {dp_right / max(dp_n, 1):.1%} of {dp_n} |"
    )


def timed(fn: Callable[[str, datetime], object], text: str, now: datetime, reps: int) -> list:
    """Wall times in microseconds of reps warm calls."""
    fn(text, now)
    out: list[float] = []
    for _ in range(reps):
        started = time.perf_counter_ns()
        fn(text, now)
        out.append((time.perf_counter_ns() - started) / 1000)
    return out


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="calls per phrase for parse_when")
    parser.add_argument("--dp-reps", type=int, default=20, help="calls per phrase for dateparser")
    parser.add_argument("--corpus-reps", type=int, default=5, help="calls per corpus sentence")
    parser.add_argument("--dp-every", type=int, default=10, help="dateparser on 1 in N sentences")
    parser.add_argument("--no-table", action="store_true", help="only the corpus part")
    args = parser.parse_args()

    phrases = load_phrases()
    when = importlib.import_module("conversations.when")
    cases, nows = phrases.CASES, phrases.NOWS
    if args.no_table:
        corpus(phrases, when, args.corpus_reps, args.dp_every)
        return

    ours = samples(when.parse_when, cases, nows, args.reps)
    theirs = samples(dateparser_alone, cases, nows, args.dp_reps)

    def ours_right(case: Any) -> bool:
        return phrases.mismatch(case, when.parse_when(case.text, nows[case.now])) is None

    def theirs_right(case: Any) -> bool:
        return dateparser_right(case, dateparser_alone(case.text, nows[case.now]))

    n = len(cases)
    ok_ours = sum(ours_right(c) for c in cases)
    ok_theirs = sum(theirs_right(c) for c in cases)
    p50o, p99o, p50t, p99t = (
        percentile(ours, 50),
        percentile(ours, 99),
        percentile(theirs, 50),
        percentile(theirs, 99),
    )
    print(f"{n} phrases; parse_when x{args.reps}, dateparser x{args.dp_reps} each, warm\n")
    print("| reader | p50 µs | p99 µs | mean µs | right |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| parse_when | {p50o:.1f} | {p99o:.1f} | {statistics.fmean(ours):.1f} "
        f"| {ok_ours}/{n} ({ok_ours / n:.0%}) |"
    )
    print(
        f"| dateparser.parse alone | {p50t:.1f} | {p99t:.1f} | {statistics.fmean(theirs):.1f} "
        f"| {ok_theirs}/{n} ({ok_theirs / n:.0%}) |"
    )
    print(
        f"| ratio dateparser / parse_when | {p50t / p50o:.1f}x | {p99t / p99o:.1f}x "
        f"| {statistics.fmean(theirs) / statistics.fmean(ours):.1f}x | |"
    )
    print("\n| category | phrases | parse_when right | dateparser right |")
    print("|---|---:|---:|---:|")
    for name, group in phrases.CATEGORIES.items():
        mine = sum(ours_right(c) for c in group)
        other = sum(theirs_right(c) for c in group)
        print(f"| {name} | {len(group)} | {mine} | {other} |")
    invented = [
        c.text
        for c in cases
        if (got := when.parse_when(c.text, nows[c.now])) is not None
        and got.exact
        and not phrases.hour_is_written(c.text, got.start.hour, got.start.minute)
    ]
    print(f"\ninvented times in the phrase table: {len(invented)} {invented[:5]}")
    corpus(phrases, when, args.corpus_reps, args.dp_every)


if __name__ == "__main__":
    main()
