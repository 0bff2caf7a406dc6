"""job pruning: the daily count of pruned jobs, and the job table's indexes (issue 22 item 3)

Finished jobs older than ``[jobs] keep_days`` are deleted by the reconciler, keeping the last
job of each (interview, stage); ``jobday`` keeps how many of each day, stage and outcome went.

Revision ID: 2201
Revises: 1906
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '2201'
down_revision: Union[str, Sequence[str], None] = '1906'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = '1201'  # the job table


def upgrade() -> None:
    op.create_table(
        'jobday',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'stage', 'status'),
    )
    op.create_index('ix_job_interview_stage', 'job', ['interview_id', 'stage'])
    op.create_index('ix_job_status_finished', 'job', ['status', 'finished_at'])


def downgrade() -> None:
    op.drop_index('ix_job_status_finished', table_name='job')
    op.drop_index('ix_job_interview_stage', table_name='job')
    op.drop_table('jobday')
