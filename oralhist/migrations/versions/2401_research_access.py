"""researchers, access requests, the activity log and the consent's catalogue listing (issues 24, 21 item 8)

Revision ID: 2401
Revises: 1906
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '2401'
down_revision: Union[str, Sequence[str], None] = '1906'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

S = sqlmodel.sql.sqltypes.AutoString
T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('listing', S(), nullable=False, server_default='none'))
    op.create_table('activityentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', T(), nullable=False),
    sa.Column('actor', S(), nullable=False),
    sa.Column('action', S(), nullable=False),
    sa.Column('interview_id', S(), nullable=True),
    sa.Column('museum_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('address', S(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('activityentry', schema=None) as batch_op:
        for col in ('at', 'actor', 'action', 'interview_id', 'museum_id'):
            batch_op.create_index(batch_op.f(f'ix_activityentry_{col}'), [col], unique=False)
        batch_op.create_index('ix_activity_interview_at', ['interview_id', 'at'], unique=False)
    op.create_table('researcher',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('email', S(), nullable=False),
    sa.Column('name', S(), nullable=False),
    sa.Column('institution', S(), nullable=False),
    sa.Column('created_at', T(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['editoraccount.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id')
    )
    with op.batch_alter_table('researcher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_researcher_email'), ['email'], unique=True)
    op.create_table('accessrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', S(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('project', S(), nullable=False),
    sa.Column('use', S(), nullable=False),
    sa.Column('status', S(), nullable=False),
    sa.Column('reason', S(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('expires_at', T(), nullable=True),
    sa.Column('decided_by', S(), nullable=True),
    sa.Column('decided_at', T(), nullable=True),
    sa.Column('seen', sa.Boolean(), nullable=False),
    sa.Column('created_at', T(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['editoraccount.id'], ),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('accessrequest', schema=None) as batch_op:
        for col in ('account_id', 'interview_id', 'status'):
            batch_op.create_index(batch_op.f(f'ix_accessrequest_{col}'), [col], unique=False)


def downgrade() -> None:
    op.drop_table('accessrequest')
    op.drop_table('researcher')
    op.drop_table('activityentry')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_column('listing')
