"""vocabulary terms: same_as URIs, coordinates and INSEE code (issue 25 item 4)

``term.same_as``: the term's equivalents in other vocabularies (Wikidata, Getty AAT,
BnF/RAMEAU, data.culture.fr), a JSON list of URIs; ``latitude``/``longitude`` (WGS 84) and
``insee`` (the commune code) for places.

Revision ID: 2501
Revises: 1906
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '2501'
down_revision: Union[str, Sequence[str], None] = '1906'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('term', schema=None) as batch_op:
        batch_op.add_column(sa.Column('same_as', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('insee', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('term', schema=None) as batch_op:
        batch_op.drop_column('insee')
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
        batch_op.drop_column('same_as')
