"""workbench: roles and museums on accounts, stored web sessions

Revision ID: 1101
Revises: 0501
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '1101'
down_revision: Union[str, Sequence[str], None] = '0501'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('editoraccount', schema=None) as batch_op:
        # accounts made by `oralhist edit user add` before roles existed were editors
        batch_op.add_column(sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='editor'))
        batch_op.add_column(sa.Column('museum_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_editoraccount_museum_id', 'museum', ['museum_id'], ['id'])
    op.create_table('websession',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['editoraccount.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websession_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websession_account_id'))
    op.drop_table('websession')
    with op.batch_alter_table('editoraccount', schema=None) as batch_op:
        batch_op.drop_constraint('fk_editoraccount_museum_id', type_='foreignkey')
        batch_op.drop_column('museum_id')
        batch_op.drop_column('role')
