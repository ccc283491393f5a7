"""Room to drive, for the slot engine: a technician's day as a chain of places.

For an on-site service whose visit has coordinates, a start is open for a technician only
if they can get there from their previous job that day (or from their home base after
their shift starts) and from there to their next job in time:

    start >= previous.ends_at + travel(previous, here)
    end + travel(here, next) <= next.starts_at

Jobs without coordinates (in the shop, or an address nobody could find) are not links in
the chain; the service's buffers still apply as before. Travel is worked out at most once
per pair of places per query.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.field.places.geo import LatLon
from bot.field.places.settings import TravelConfig
from bot.field.places.travel import travel
from storage.models import CANCELLED, Appointment, Staff
from storage.types import epoch_seconds


class TravelCheck:
    """The coordinates of the technicians' jobs over a range, and the drive to `here`."""

    def __init__(
        self,
        session: Session,
        staff_ids: Iterable[int],
        lo: datetime,
        hi: datetime,
        here: LatLon,
        settings: TravelConfig,
        ignore_appointment_id: int | None = None,
    ) -> None:
        ids = list(staff_ids)
        self.here = here
        self.settings = settings
        self._minutes: dict[tuple[LatLon, LatLon], int] = {}
        jobs: dict[int, list[tuple[int, int, LatLon]]] = defaultdict(list)
        stmt = select(
            Appointment.staff_id,
            epoch_seconds(Appointment.starts_at),
            epoch_seconds(Appointment.ends_at),
            Appointment.lat,
            Appointment.lon,
        ).where(
            Appointment.staff_id.in_(ids),
            Appointment.status != CANCELLED,
            Appointment.lat.is_not(None),
            Appointment.lon.is_not(None),
            Appointment.starts_at < hi,
            Appointment.ends_at > lo,
        )
        if ignore_appointment_id is not None:
            stmt = stmt.where(Appointment.id != ignore_appointment_id)
        for staff_id, start, end, lat, lon in session.connection().execute(stmt):
            jobs[staff_id].append((start, end, LatLon(lat, lon)))
        self._starts: dict[int, list[int]] = {}
        self._jobs: dict[int, list[tuple[int, int, LatLon]]] = {}
        for sid in ids:
            ordered = sorted(jobs[sid], key=lambda job: job[0])
            self._jobs[sid] = ordered
            self._starts[sid] = [job[0] for job in ordered]
        self.homes: dict[int, LatLon] = {
            sid: LatLon(lat, lon)
            for sid, lat, lon in session.connection().execute(
                select(Staff.id, Staff.home_lat, Staff.home_lon).where(
                    Staff.id.in_(ids), Staff.home_lat.is_not(None), Staff.home_lon.is_not(None)
                )
            )
        }

    def minutes(self, a: LatLon, b: LatLon) -> int:
        """Driving minutes from a to b (cached for this query)."""
        key = (a, b)
        if key not in self._minutes:
            self._minutes[key] = travel(a, b, self.settings).minutes
        return self._minutes[key]

    def fits(
        self,
        staff_id: int,
        start: int,
        end: int,
        day: tuple[int, int],
        shift_start: int | None,
    ) -> bool:
        """Whether the technician can drive in from before and on to after [start, end).

        `day` is the local day's [midnight, next midnight) in epoch seconds: jobs on other
        days are not links; `shift_start` is when their working day starts (home base).
        """
        jobs, starts = self._jobs.get(staff_id, []), self._starts.get(staff_id, [])
        i = bisect_left(starts, start)
        if i > 0 and jobs[i - 1][0] >= day[0]:
            free_from, origin = jobs[i - 1][1], jobs[i - 1][2]
        elif staff_id in self.homes and shift_start is not None:
            free_from, origin = shift_start, self.homes[staff_id]
        else:
            free_from, origin = 0, None
        if origin is not None and start - free_from < self.minutes(origin, self.here) * 60:
            return False
        if i < len(jobs) and jobs[i][0] < day[1]:
            after_start, after = jobs[i][0], jobs[i][2]
            if after_start - end < self.minutes(self.here, after) * 60:
                return False
        return True
