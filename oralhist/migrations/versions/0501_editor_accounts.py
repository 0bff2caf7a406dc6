"""editor accounts (web editor listening beyond localhost)

Revision ID: 0501
Revises: 0001
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0501'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('editoraccount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('editoraccount', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_editoraccount_name'), ['name'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('editoraccount', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_editoraccount_name'))
    op.drop_table('editoraccount')
