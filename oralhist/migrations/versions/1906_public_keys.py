"""opaque public ids and retired public ids (issue 19 item 16)

Every interview gets ``public_key``, the id the public sees (OAI identifier, page address).
Existing archives: an interview public today keeps the id it was published under (harvesters
and links keep working; the name in it is one the narrator agreed to show, or the id is the
old opaque ``t-…`` of an anonymised interview); every other interview gets a random key.
Ids once published and no longer answering (withdrawn, narrowed, anonymised since) are
written to ``retiredid`` so the OAI endpoint announces them deleted for
``[oai] deleted_retention_days`` and then forgets them.

Revision ID: 1906
Revises: 1401
"""
import hashlib
import json
import secrets
from datetime import date, datetime, timezone
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '1906'
down_revision: Union[str, Sequence[str], None] = '1401'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _json(v):
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return None
    return v if isinstance(v, dict) else None


def upgrade() -> None:
    op.create_table('retiredid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('retired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('retiredid', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retiredid_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retiredid_public_id'), ['public_id'], unique=False)
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True))

    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    today = date.today()
    ivs = [r[0] for r in conn.execute(sa.text("SELECT id FROM interview ORDER BY id"))]
    consents = {r[0]: r for r in conn.execute(sa.text(
        "SELECT interview_id, scope, embargo_until, anonymise FROM consent"))}
    shas: dict = {}
    for iid, sha in conn.execute(sa.text("SELECT interview_id, sha256 FROM recording ORDER BY part, id")):
        shas.setdefault(iid, []).append(sha or "")
    published: dict = {}  # interview -> {anonymised?} under which it was public, from consent revisions
    for iid, before, after in conn.execute(sa.text(
            "SELECT interview_id, before, after FROM revision WHERE kind = 'consent'")):
        for d in (_json(before), _json(after)):
            if d and str(d.get("scope")) == "public":
                published.setdefault(iid, set()).add(bool(d.get("anonymise")))
    for iid in ivs:
        c = consents.get(iid)
        scope = str(c[1]) if c is not None else "none"
        emb = c[2] if c is not None else None
        if isinstance(emb, str):
            emb = date.fromisoformat(emb[:10]) if emb else None
        anon = bool(c[3]) if c is not None else False
        public = scope == "public" and (emb is None or emb < today)
        opaque_old = "t-" + hashlib.sha256(f"{iid}|{','.join(shas.get(iid, []))}".encode()).hexdigest()[:12]
        if public:
            key = opaque_old if anon else iid
            published.setdefault(iid, set()).add(anon)
        else:
            key = "iv-" + secrets.token_hex(6)
        conn.execute(sa.text("UPDATE interview SET public_key = :k WHERE id = :i"), {"k": key, "i": iid})
        for was_anon in published.get(iid, ()):
            old = opaque_old if was_anon else iid
            if old != key:
                conn.execute(sa.text("INSERT INTO retiredid (interview_id, public_id, retired_at) VALUES (:i, :p, :t)"),
                             {"i": iid, "p": old, "t": now})

    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_public_key'), ['public_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_public_key'))
        batch_op.drop_column('public_key')
    with op.batch_alter_table('retiredid', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retiredid_public_id'))
        batch_op.drop_index(batch_op.f('ix_retiredid_interview_id'))
    op.drop_table('retiredid')
