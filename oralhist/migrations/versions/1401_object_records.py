"""object records and pictures (issue 14)

Revision ID: 1401
Revises: 0501
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '1401'
down_revision: Union[str, Sequence[str], None] = '0501'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('objectrecord',
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('image_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('image_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('alt', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('dates', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('materials', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('dimensions', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('credit_line', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('rights', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], ),
    sa.PrimaryKeyConstraint('term_id')
    )


def downgrade() -> None:
    op.drop_table('objectrecord')
