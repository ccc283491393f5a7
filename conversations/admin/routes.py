"""The owner's route commands: "optimise tuesday" → a proposal, "apply" (or yes), "undo".

Registers its commands with `conversations.admin`; the optimising, applying and undoing are
bot.field.routing.plans'. A proposal shows, per technician, the order of the jobs with arrival
times and the driving minutes (before → after), the day's total, and the jobs that change
hands; it waits for a yes or "apply". Every apply and undo is written to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.field.routing import plans
from bot.field.routing.plans import PlanStatus, Proposal
from conversations.admin import commands as admin
from conversations.admin.commands import Actor, answer, audit
from conversations.turn import Turn
from conversations.when import parse_when
from storage.models import RoutePlan

_MAX_STOPS_SHOWN = 8


def _day_named(turn: Turn, text: str) -> date:
    """The day a route command names: today, tomorrow, a weekday or date; today by default."""
    local = turn.now.astimezone(turn.business.zone)
    lowered = text.lower()
    if "tomorrow" in lowered:
        return local.date() + timedelta(days=1)
    if "today" in lowered:
        return local.date()
    when = parse_when(text, local)
    return when.start.astimezone(turn.business.zone).date() if when is not None else local.date()


def _clock(turn: Turn, moment: datetime) -> str:
    return turn.when(moment).split(", ")[-1]


def _percent(before: float, after: float) -> str:
    return f"{(after - before) / before * 100:+.0f}%" if before else "±0%"


def proposal_lines(turn: Turn, proposal: Proposal) -> list[str]:
    """The proposal as chat lines: totals, one line per technician, who changes hands."""
    day, summary = proposal.day, proposal.plan.summary
    label = turn.day(day.midnight)
    lines = [
        f"Routes for {label}: driving {summary['minutes_before']} → {summary['minutes_after']} min "
        f"({_percent(summary['minutes_before'], summary['minutes_after'])}), "
        f"{summary['km_before']:.0f} → {summary['km_after']:.0f} km."
    ]
    names = {key: s.name.split()[0] for key, s in day.staff.items()}
    for route in proposal.solution.routes:
        if not route.stops:
            continue
        jobs = [
            f"{_clock(turn, day.moment(s.start))} #{s.visit}"
            for s in route.stops[:_MAX_STOPS_SHOWN]
        ]
        if len(route.stops) > _MAX_STOPS_SHOWN:
            jobs.append(f"+{len(route.stops) - _MAX_STOPS_SHOWN}")
        was = summary["before"].get(route.vehicle, {}).get("minutes", 0)
        now_min = summary["after"].get(route.vehicle, {}).get("minutes", 0)
        lines.append(
            f"{names[route.vehicle]}: {', '.join(jobs)} — {now_min} min driving (was {was})"
        )
    hands = [m for m in proposal.moves if m.changes_hands]
    if hands:
        shown = ", ".join(
            f"#{m.appointment_id} {names.get(m.old_staff, m.old_staff)}→{names[m.new_staff]}"
            for m in hands[:6]
        )
        more = f" and {len(hands) - 6} more" if len(hands) > 6 else ""
        lines.append(f"Changing hands: {shown}{more}.")
    else:
        lines.append("No job changes hands.")
    windows = sum(1 for m in proposal.moves if m.window_changed)
    if windows:
        lines.append(
            f"{windows} customer{'s' * (windows != 1)} would get a new arrival window (late otherwise)."
        )
    if summary["unassigned"]:
        lines.append(
            "Nobody can take: "
            + ", ".join(f"#{v}" for v in summary["unassigned"])
            + " (left as booked)."
        )
    return lines


def optimise(turn: Turn, actor: Actor, text: str) -> None:
    """ "optimise tuesday": optimise that day's routes and propose them."""
    day = _day_named(turn, text)
    if day < turn.now.astimezone(turn.business.zone).date():
        answer(turn, ["That day is over; name today or a day ahead."])
        return
    proposal = plans.propose(turn.session, day, now=turn.now, actor=actor.identity)
    if not proposal.day.appointments or not proposal.moves:
        proposal.plan.status = PlanStatus.SUPERSEDED  # nothing to apply
    if not proposal.day.appointments:
        answer(turn, [f"No on-site jobs to route on {turn.day(proposal.day.midnight)}."])
        return
    audit(turn, actor, "routes_optimise", plan=proposal.plan.id, day=day.isoformat())
    lines = proposal_lines(turn, proposal)
    if not proposal.moves:
        answer(turn, [*lines, "The day is already as good as I can make it; nothing to apply."])
        return
    lines.append(
        f"Apply these routes? ({len(proposal.moves)} jobs move; say undo later today to put them back)"
    )
    admin.confirm(turn, "\n".join(lines), "routes_apply", plan=proposal.plan.id)


def _apply(turn: Turn, actor: Actor, plan: RoutePlan | None) -> None:
    if plan is None:
        answer(turn, ['No route plan is waiting. Say e.g. "optimise tuesday" first.'])
        return
    outcome = plans.apply(turn.session, plan, now=turn.now, actor=actor.tag)
    if outcome.refused:
        answer(turn, [outcome.refused])
        return
    audit(
        turn,
        actor,
        "routes_apply",
        plan=plan.id,
        day=plan.day,
        moved=outcome.moved,
        told=outcome.told,
    )
    summary = plan.summary
    answer(
        turn,
        [
            f"Applied: {outcome.moved} jobs moved; driving {summary['minutes_before']} → "
            f"{summary['minutes_after']} min. {outcome.told} customer{'s' * (outcome.told != 1)} told "
            "about a new arrival window; the technicians have been told. Say undo to put it back (today only)."
        ],
    )


def apply_routes(turn: Turn, actor: Actor, text: str) -> None:
    """ "apply": apply the latest route proposal."""
    _apply(turn, actor, plans.latest(turn.session, PlanStatus.PROPOSED))


def _do_apply(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    _apply(turn, actor, turn.session.get(RoutePlan, pending["plan"]))


def undo_routes(turn: Turn, actor: Actor, text: str) -> None:
    """ "undo": put back the jobs of the route plan applied today."""
    plan = plans.latest(turn.session, PlanStatus.APPLIED)
    if plan is None:
        answer(turn, ["There is no applied route plan to undo."])
        return
    outcome = plans.undo(turn.session, plan, now=turn.now, actor=actor.tag, zone=turn.business.zone)
    if outcome.refused:
        answer(turn, [outcome.refused])
        return
    audit(
        turn,
        actor,
        "routes_undo",
        plan=plan.id,
        day=plan.day,
        moved=outcome.moved,
        told=outcome.told,
    )
    answer(
        turn,
        [
            f"Undone: {outcome.moved} jobs are back as booked; {outcome.told} "
            f"customer{'s' * (outcome.told != 1)} told."
        ],
    )


_registered: list[bool] = []


def register() -> None:
    """Add the route-apply action to the admin chat (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS["routes_apply"] = _do_apply
