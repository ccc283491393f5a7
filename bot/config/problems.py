"""Every problem in a business.toml at once, not only the first.

This module owns `config_problems`: the loader stops at the first problem, so each one is
set aside (a misspelt key renamed to the suggestion, a bad value replaced by the starter
template's, else removed) and the file read again, until it loads.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

from bot.config.loading import TEMPLATE_PATH, parse_raw
from bot.core.errors import ConfigError

MAX_PROBLEMS = 50
_STEP = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def config_problems(
    text: str, source: str = "business.toml", base: Path | None = None
) -> list[ConfigError]:
    """Every problem in business.toml text, one ConfigError each, in file order of discovery.

    The parser stops at the first problem, so each one found is set aside — the value
    replaced by the starter template's value for the same field, or removed when the
    template has none — and the file read again, until it parses or nothing more can be
    set aside (then the last line says later problems may be hidden).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [ConfigError(source, f"is not valid TOML: {exc}")]
    template = tomllib.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    problems: list[ConfigError] = []
    attempts: dict[str, int] = {}
    while len(problems) < MAX_PROBLEMS:
        try:
            parse_raw(copy.deepcopy(raw), base)
            return problems
        except ConfigError as problem:
            if not any(seen.field == problem.field for seen in problems):
                problems.append(problem)
            attempts[problem.field] = attempts.get(problem.field, 0) + 1
            if not _set_aside(raw, template, problem, attempts[problem.field]):
                break
    problems.append(ConfigError(source, "fix these and check again: more may be hidden"))
    return problems


def _steps(field: str) -> list[str | int] | None:
    """'services[2].price' → ['services', 2, 'price']; None when it is not a field path."""
    steps: list[str | int] = []
    for part in field.split("."):
        match = _STEP.fullmatch(part)
        if not match:
            return None
        steps.append(match.group(1))
        steps += [int(index) for index in re.findall(r"\[(\d+)\]", match.group(2))]
    return steps


def _set_aside(
    raw: dict[str, Any], template: dict[str, Any], problem: ConfigError, attempt: int
) -> bool:
    """Rename a misspelt key, replace (first try) or remove (second try) the value at the
    problem's field; False when stuck."""
    steps = _steps(problem.field)
    if not steps or attempt > 2:
        return False
    container: Any = raw
    for step in steps[:-1]:
        try:
            container = container[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    if not isinstance(container, dict) or not isinstance(last, str):
        return False
    meant = re.search(r"^unknown (?:key|section) .*did you mean '([^']+)'", problem.problem)
    if attempt == 1 and meant and last in container and meant.group(1) not in container:
        container[meant.group(1)] = container.pop(last)
        return True
    if attempt == 1:
        fallback = _template_value(template, steps)
        if fallback is not None and container.get(last) != fallback:
            container[last] = copy.deepcopy(fallback)
            return True
    if last in container:
        del container[last]
        return True
    return False


def _template_value(template: Any, steps: list[str | int]) -> Any:
    """The starter template's value for the same field (any index reads its first entry)."""
    value = template
    for step in steps:
        if isinstance(step, int):
            value = value[0] if isinstance(value, list) and value else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


# [handover] and [promotions], optional: read from the raw TOML into Business.settings.
