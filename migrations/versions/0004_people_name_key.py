"""A folded name key on people.

Why: identity resolution compares names as keys (umlaut spellings, accents, titles folded). Looking them
up through `lower(name) LIKE ...` missed `Jürgen` for `Juergen` and, on SQLite, every name starting with
a non-ASCII letter (SQLite's lower() folds ASCII only). The key is computed in Python and indexed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of skillmatch.text.names.name_key as of this revision: history must not change with the code.
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i"})
_TITLES = frozenset(
    ["dr", "prof", "dipl", "ing", "inf", "kfm", "mag", "mba", "msc", "bsc", "ma", "ba", "phd", "med", "rer",
     "nat", "mr", "mrs", "ms", "herr", "frau"]
)  # fmt: skip


def _name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.casefold().translate(_UMLAUTS))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words = re.findall(r"[^\W_]+", folded)
    kept = [w for w in words if w not in _TITLES]
    return " ".join(kept or words)


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch.create_index("ix_people_name_key", ["name_key"])
    people = sa.table(
        "people", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("name_key")
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(people.c.id, people.c.name)).all()
    for pid, name in rows:
        connection.execute(
            people.update().where(people.c.id == pid).values(name_key=_name_key(name or "")[:200])
        )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_index("ix_people_name_key")
        batch.drop_column("name_key")
