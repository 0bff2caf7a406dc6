"""people per museum (issue 19, item 2): a Person referred to by interviews of several museums is split

Until now ingest and `speakers rename` found people by name in every museum, so two museums'
narrators who share a name were one Person: a rename or a pseudonym given through one museum's
interview reached the other's. From now on people are looked up per museum
(``records.person_id``) and a change made through one interview forks a shared Person
(``records.own_person``). This migration splits the Persons existing archives already share
across museums: the museum of the Person's earliest interview keeps it, every other museum's
interviews (narrator, interviewer, speakers) get their own copy (same name, pseudonym, birth
year, notes), so nothing published changes at the upgrade. No column changes.

Revision ID: 1901
Revises: 1401
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '1901'
down_revision: Union[str, Sequence[str], None] = '1401'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def split_people(conn) -> int:
    """Give each museum (None: interviews tied to none) its own copy of every Person that
    interviews of several museums refer to; -> the number of copies made."""
    refs = conn.execute(sa.text(
        "SELECT p, m, iid FROM ("
        " SELECT narrator_id AS p, museum_id AS m, id AS iid FROM interview WHERE narrator_id IS NOT NULL"
        " UNION SELECT interviewer_id, museum_id, id FROM interview WHERE interviewer_id IS NOT NULL"
        " UNION SELECT s.person_id, i.museum_id, i.id FROM speaker s JOIN interview i ON i.id = s.interview_id"
        "  WHERE s.person_id IS NOT NULL) r ORDER BY p, iid")).all()
    by_person: dict = {}
    for p, m, iid in refs:
        museums = by_person.setdefault(p, [])
        if m not in museums:
            museums.append(m)  # in interview id order: the first keeps the Person
    made = 0
    for pid, museums in sorted(by_person.items()):
        if len(museums) < 2:
            continue
        row = conn.execute(sa.text("SELECT name, pseudonym, birth_year, notes FROM person WHERE id = :p"),
                           {"p": pid}).one()
        for m in museums[1:]:
            new = conn.execute(sa.text(
                "INSERT INTO person (name, pseudonym, birth_year, notes) VALUES (:n, :ps, :b, :no) RETURNING id"),
                {"n": row[0], "ps": row[1], "b": row[2], "no": row[3]}).scalar_one()
            same = "museum_id = :m" if m is not None else "museum_id IS NULL"
            args = {"new": new, "p": pid, "m": m}
            conn.execute(sa.text(f"UPDATE interview SET narrator_id = :new WHERE narrator_id = :p AND {same}"), args)
            conn.execute(sa.text(f"UPDATE interview SET interviewer_id = :new WHERE interviewer_id = :p AND {same}"),
                         args)
            conn.execute(sa.text(f"UPDATE speaker SET person_id = :new WHERE person_id = :p AND interview_id IN "
                                 f"(SELECT id FROM interview WHERE {same})"), args)
            made += 1
    return made


def upgrade() -> None:
    split_people(op.get_bind())


def downgrade() -> None:
    pass  # the copies are kept: merging people back would join two museums' narrators again
