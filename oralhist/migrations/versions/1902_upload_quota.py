"""who imported each recording through the workbench (per-account upload quota, issue 19 item 15)

Revision ID: 1902
Revises: 1401
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '1902'
down_revision: Union[str, Sequence[str], None] = '1401'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('recording') as batch_op:
        batch_op.add_column(sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_recording_added_by'), ['added_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recording') as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_added_by'))
        batch_op.drop_column('added_by')
