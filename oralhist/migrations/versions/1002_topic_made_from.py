"""topicsegment.made_from: the transcript (row id) a machine topic's text was made from

Revision ID: 1002
Revises: 1001
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '1002'
down_revision: Union[str, Sequence[str], None] = '1001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('topicsegment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('made_from', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('topicsegment', schema=None) as batch_op:
        batch_op.drop_column('made_from')
