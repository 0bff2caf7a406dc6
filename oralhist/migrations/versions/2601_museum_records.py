"""museum records and narrators' portraits for the public site (issue 26 items 2 and 5)

The museums file (``oralhist museums import musees.csv``) fills, beside the existing name,
place (the town) and url (the website): a slug for ``musees/<slug>/``, the address, the
coordinates for the map, the logo (a stored picture, like object pictures) and a description.

Revision ID: 2601
Revises: 1906
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '2601'
down_revision: Union[str, Sequence[str], None] = '1906'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_COLUMNS = (("slug", sa.String()), ("address", sa.String()), ("latitude", sa.Float()), ("longitude", sa.Float()),
            ("logo_path", sa.String()), ("logo_sha256", sa.String()), ("description", sa.Text()))


def upgrade() -> None:
    with op.batch_alter_table("museum") as b:
        for name, kind in _COLUMNS:
            b.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("consent") as b:
        b.add_column(sa.Column("portrait", sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("portrait_path", sa.String(), nullable=True))
        b.add_column(sa.Column("portrait_sha256", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent") as b:
        for name in ("portrait_sha256", "portrait_path", "portrait"):
            b.drop_column(name)
    with op.batch_alter_table("museum") as b:
        for name, _ in reversed(_COLUMNS):
            b.drop_column(name)
