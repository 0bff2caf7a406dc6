"""per-interview rights statement and licence on the consent record (issue 13 item 7)

Revision ID: 1302
Revises: 0501
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '1302'
down_revision: Union[str, Sequence[str], None] = '0501'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rights', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('license', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_column('license')
        batch_op.drop_column('rights')
