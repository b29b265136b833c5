"""leads.first_name_key: the first name without accents or case, for the admin search

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:00:00.000000
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of bot/leads/search_key.py as it was: a migration must not change with the code.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def _search_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_name_key", sa.String(length=120), nullable=True))
    # The leads already there are found like the new ones.
    connection = op.get_bind()
    named = connection.execute(
        sa.text("SELECT id, first_name FROM leads WHERE first_name IS NOT NULL")
    ).all()
    for lead_id, first_name in named:
        connection.execute(
            sa.text("UPDATE leads SET first_name_key = :key WHERE id = :id"),
            # Cut to the column's length: NFKD spells some characters out at length.
            {"key": _search_key(first_name)[:120], "id": lead_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("first_name_key")
