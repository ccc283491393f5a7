"""Benchmark: what reading one customer message costs — the timings the tests do not assert.

Two workloads, warm: a typical booking message with a typo ("can I get a hiarcut with sam …")
read by `find_services`, `find_staff` and `intents` against the demo salon; and 10 kB of
garbage read by `parse_when` (which reads only the first few hundred characters). Prints a
Markdown table.

    .venv/bin/python bench/reading.py [--reps 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversations.nlu.understand import find_services, find_staff, intents  # noqa: E402
from conversations.when import parse_when  # noqa: E402
from tests.dialogues.test_understand import SALON, STAFF  # noqa: E402
from tests.dialogues.test_when import WED  # noqa: E402


def per_call_ms(work: Callable[[int], object], reps: int) -> list[float]:
    """Each call's wall time in milliseconds, after one warm-up call."""
    work(0)
    out = []
    for i in range(reps):
        started = time.perf_counter()
        work(i)
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def main() -> None:
    """Run both workloads and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    args = parser.parse_args()

    def typical(i: int) -> None:
        text = f"can I get a hiarcut with sam {i} on friday at {i % 12}pm, ok?"
        find_services(text, SALON)
        find_staff(text, STAFF)
        intents(text)

    garbage = ("zq 7 :/ - 3 4 tmrw \u202e\U0001f600 " * 400)[:10_000]
    rows = (
        ("typical message: services, staff, intents", per_call_ms(typical, args.reps)),
        (
            "10 kB of garbage: parse_when",
            per_call_ms(lambda _: parse_when(garbage, WED), args.reps),
        ),
    )
    print("| reading | calls | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    for name, times in rows:
        p99 = times[min(len(times) - 1, round(0.99 * len(times)) - 1)]
        print(f"| {name} | {len(times)} | {times[len(times) // 2]:.3f} | {p99:.3f} |")


if __name__ == "__main__":
    main()
