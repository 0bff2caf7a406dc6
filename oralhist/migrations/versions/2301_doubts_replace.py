"""confirmed words and replace batches (issue 23 items 1 and 2)

``wordcheck``: words an editor confirmed (no longer doubtful); ``replacebatch``: each
« remplacer partout » and the versions it made, so that it can be undone as one step.

Revision ID: 2301
Revises: 1906
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '2301'
down_revision: Union[str, Sequence[str], None] = '1906'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('wordcheck',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('start_ms', sa.Integer(), nullable=False),
    sa.Column('end_ms', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('who', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('interview_id', 'start_ms', 'text')
    )
    with op.batch_alter_table('wordcheck', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wordcheck_interview_id'), ['interview_id'], unique=False)
    op.create_table('replacebatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('find', sa.Text(), nullable=False),
    sa.Column('replace', sa.Text(), nullable=False),
    sa.Column('who', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=True),
    sa.Column('undone_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('undone_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('replacebatch')
    with op.batch_alter_table('wordcheck', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wordcheck_interview_id'))
    op.drop_table('wordcheck')
