"""The owner's route commands: "optimise tuesday" → a proposal, "apply" (or yes), "undo".

Registers its commands with `conversations.admin`; the optimising, applying and undoing are
bot.field.routing.plans'. A proposal shows, per technician, the order of the jobs with arrival
times and the driving minutes (before → after), the day's total, and the jobs that change
hands; it waits for a yes or "apply". Every apply and undo is written to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.core.text import _, nt, t
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
        t("Routes for {label}: driving {minutes_before} → {minutes_after} min "
        "({percent}), "
        "{km_before:.0f} → {km_after:.0f} km.", label=label, minutes_before=summary['minutes_before'], minutes_after=summary['minutes_after'], percent=_percent(summary['minutes_before'], summary['minutes_after']), km_before=summary['km_before'], km_after=summary['km_after'])
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
            t("{names}: {jobs} — {now_min} min driving (was {was})", names=names[route.vehicle], jobs=', '.join(jobs), now_min=now_min, was=was)
        )
    hands = [m for m in proposal.moves if m.changes_hands]
    if hands:
        shown = ", ".join(
            f"#{m.appointment_id} {names.get(m.old_staff, m.old_staff)}→{names[m.new_staff]}"
            for m in hands[:6]
        )
        more = t(" and {count} more", count=len(hands) - 6) if len(hands) > 6 else ""
        lines.append(t("Changing hands: {shown}{more}.", shown=shown, more=more))
    else:
        lines.append(_("No job changes hands."))
    windows = sum(1 for m in proposal.moves if m.window_changed)
    if windows:
        lines.append(
            nt("{n} customer would get a new arrival window (late otherwise).", "{n} customers would get a new arrival window (late otherwise).", windows)
        )
    if summary["unassigned"]:
        lines.append(
            _("Nobody can take: ")
            + ", ".join(f"#{v}" for v in summary["unassigned"])
            + _(" (left as booked).")
        )
    return lines


def optimise(turn: Turn, actor: Actor, text: str) -> None:
    """ "optimise tuesday": optimise that day's routes and propose them."""
    day = _day_named(turn, text)
    if day < turn.now.astimezone(turn.business.zone).date():
        answer(turn, [_("That day is over; name today or a day ahead.")])
        return
    proposal = plans.propose(turn.session, day, now=turn.now, actor=actor.identity)
    if not proposal.day.appointments or not proposal.moves:
        proposal.plan.status = PlanStatus.SUPERSEDED  # nothing to apply
    if not proposal.day.appointments:
        answer(turn, [t("No on-site jobs to route on {day}.", day=turn.day(proposal.day.midnight))])
        return
    audit(turn, actor, "routes_optimise", plan=proposal.plan.id, day=day.isoformat())
    lines = proposal_lines(turn, proposal)
    if not proposal.moves:
        answer(turn, [*lines, _("The day is already as good as I can make it; nothing to apply.")])
        return
    lines.append(
        t("Apply these routes? ({count} jobs move; say undo later today to put them back)", count=len(proposal.moves))
    )
    admin.confirm(turn, "\n".join(lines), "routes_apply", plan=proposal.plan.id)


def _apply(turn: Turn, actor: Actor, plan: RoutePlan | None) -> None:
    if plan is None:
        answer(turn, [_('No route plan is waiting. Say e.g. "optimise tuesday" first.')])
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
            nt("Applied: {moved} jobs moved; driving {minutes_before} → "
            "{minutes_after} min. {n} customer told "
            "about a new arrival window; the technicians have been told. Say undo to put it back (today only).", "Applied: {moved} jobs moved; driving {minutes_before} → "
            "{minutes_after} min. {n} customers told "
            "about a new arrival window; the technicians have been told. Say undo to put it back (today only).", outcome.told, moved=outcome.moved, minutes_before=summary['minutes_before'], minutes_after=summary['minutes_after'])
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
        answer(turn, [_("There is no applied route plan to undo.")])
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
            nt("Undone: {moved} jobs are back as booked; {n} "
            "customer told.", "Undone: {moved} jobs are back as booked; {n} "
            "customers told.", outcome.told, moved=outcome.moved)
        ],
    )


_registered: list[bool] = []


def register() -> None:
    """Add the route-apply action to the admin chat (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS["routes_apply"] = _do_apply
