"""accounts in the browser (issue 21 item 1): disabled accounts, forced password change, idle sessions

``editoraccount.disabled``: a disabled person cannot log in and has no session;
``editoraccount.must_change_password``: set by an admin's reset, the person chooses a new
password at the next login. ``websession.last_seen_at`` (idle timeout), ``address`` and
``agent`` (what « Mon compte » lists for each open session).

Revision ID: 2101
Revises: 1906, 1101
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '2101'
# also below 1101 (editoraccount.role, the websession table), which the 1906 branch does not hold: a
# merge point. (`depends_on` would do the order but leave 1101 listed as a head that the database's
# alembic_version never shows, so every start would see an "older" database and upgrade again.)
down_revision: Union[str, Sequence[str], None] = ('1906', '1101')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('editoraccount', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('address', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('agent', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('websession', schema=None) as batch_op:
        batch_op.drop_column('agent')
        batch_op.drop_column('address')
        batch_op.drop_column('last_seen_at')
    with op.batch_alter_table('editoraccount', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('disabled')
