"""correction memory, segments marked « relu », assignments, passage comments (issue 23 items 3, 5)

Revision ID: 2302
Revises: 1906
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '2302'
down_revision: Union[str, Sequence[str], None] = '1906'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def _index(table: str, *cols: str) -> None:
    with op.batch_alter_table(table) as batch_op:
        for c in cols:
            batch_op.create_index(batch_op.f(f'ix_{table}_{c}'), [c], unique=False)


def upgrade() -> None:
    op.create_table('correctionpair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('museum_id', sa.Integer(), nullable=True),
    sa.Column('key', S(), nullable=False),
    sa.Column('wrong', S(), nullable=False),
    sa.Column('right', S(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('taught_by', S(), nullable=True),
    sa.Column('created_at', T(), nullable=False),
    sa.Column('updated_at', T(), nullable=False),
    sa.ForeignKeyConstraint(['museum_id'], ['museum.id']),
    sa.PrimaryKeyConstraint('id'))
    _index('correctionpair', 'museum_id', 'key')
    op.create_table('correctionsource',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pair_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', S(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('kept', sa.Integer(), nullable=False),
    sa.Column('who', S(), nullable=True),
    sa.Column('at', T(), nullable=False),
    sa.ForeignKeyConstraint(['pair_id'], ['correctionpair.id']),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id']),
    sa.PrimaryKeyConstraint('id'))
    _index('correctionsource', 'pair_id', 'interview_id')
    op.create_table('segmentreview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', S(), nullable=False),
    sa.Column('start_ms', sa.Integer(), nullable=False),
    sa.Column('who', S(), nullable=False),
    sa.Column('at', T(), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id']),
    sa.PrimaryKeyConstraint('id'))
    _index('segmentreview', 'interview_id')
    op.create_table('assignment',
    sa.Column('interview_id', S(), nullable=False),
    sa.Column('assignee', S(), nullable=False),
    sa.Column('assigned_by', S(), nullable=False),
    sa.Column('at', T(), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id']),
    sa.PrimaryKeyConstraint('interview_id'))
    _index('assignment', 'assignee')
    op.create_table('passagecomment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', S(), nullable=False),
    sa.Column('start_ms', sa.Integer(), nullable=False),
    sa.Column('end_ms', sa.Integer(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author', S(), nullable=False),
    sa.Column('created_at', T(), nullable=False),
    sa.Column('resolved_by', S(), nullable=True),
    sa.Column('resolved_at', T(), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id']),
    sa.PrimaryKeyConstraint('id'))
    _index('passagecomment', 'interview_id')


def downgrade() -> None:
    for t in ('passagecomment', 'assignment', 'segmentreview', 'correctionsource', 'correctionpair'):
        op.drop_table(t)
