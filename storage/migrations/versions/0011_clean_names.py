"""clean stored display names: no bidi controls, control or zero-width characters

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 09:30:00

Names a provider supplied (a WhatsApp ProfileName, a Telegram first name) or a person typed
were stored as given, bidi overrides and control characters included, and shown in owner
notices, agendas, PDFs and email subjects. New names are cleaned on the way in
(`bot.core.names.clean_display_name`); this cleans the rows stored before: `customer.name` and
the `display_name` kept in `inbound_message.payload`.

The cleaning is copied here rather than imported: a migration must do tomorrow exactly
what it does today, and `storage` imports nothing of the project. It matches
`bot.core.names.clean_display_name` as of this revision. There is no downgrade of the data: the
characters removed were never meant to be there.
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

MAX_NAME = 80
BATCH = 500


def _clean(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    kept = []
    for char in raw:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs"):
            kept.append(char)
    text = " ".join(unicodedata.normalize("NFC", "".join(kept)).split())
    if len(text) > MAX_NAME:
        text = text[:MAX_NAME].rstrip()
    return text or None


customer = sa.table("customer", sa.column("id", sa.Integer), sa.column("name", sa.String))
inbound = sa.table("inbound_message", sa.column("id", sa.Integer), sa.column("payload", sa.JSON))


def upgrade() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(customer.c.id, customer.c.name)
            .where(customer.c.id > last, customer.c.name.is_not(None))
            .order_by(customer.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row_id, name in rows:
            cleaned = _clean(name)
            if cleaned != name:
                bind.execute(
                    sa.update(customer).where(customer.c.id == row_id).values(name=cleaned)
                )
        last = rows[-1][0]
    last = 0
    while True:
        rows = bind.execute(
            sa.select(inbound.c.id, inbound.c.payload)
            .where(inbound.c.id > last)
            .order_by(inbound.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row_id, payload in rows:
            if isinstance(payload, dict) and payload.get("display_name") is not None:
                cleaned = _clean(payload["display_name"])
                if cleaned != payload["display_name"]:
                    bind.execute(
                        sa.update(inbound)
                        .where(inbound.c.id == row_id)
                        .values(payload={**payload, "display_name": cleaned})
                    )
        last = rows[-1][0]


def downgrade() -> None:
    pass  # the removed characters are not restored
