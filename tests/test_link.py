"""Link suggestions on real transcript text (corpus references) with word timings."""

from __future__ import annotations

import json

from sqlmodel import select

from _link_helpers import corpus_text, make_interview
from oralhist import db
from oralhist.editorial.link import TermIndex, find_mentions, link_interviews, tokens, word_key
from oralhist.records import Link, LinkStatus, Term, TermKind
from oralhist.editorial.vocab import STARTER, import_vocab


def _vocab(ws, tmp_path, rows: str, kind="trade"):
    f = tmp_path / f"v-{kind}.csv"
    f.write_text("label,alt_labels\n" + rows, encoding="utf-8")
    import_vocab(ws, f, kind)


def _links(ws, iid):
    with db.session(ws) as s:
        rows = s.exec(select(Link, Term).join(Term, Term.id == Link.term_id).where(Link.interview_id == iid)
                      .order_by(Link.start_ms)).all()
        return [(t.label, l) for l, t in rows]


def test_keys_fold_case_accents_plural_and_feminine():
    assert word_key("fileuse") == word_key("fileur") == word_key("fileuses") == word_key("Fileurs".lower())
    assert word_key("tisserande") == word_key("tisserands")
    assert word_key("verrières") == word_key("verrier")
    assert word_key("cheminote") == word_key("cheminot")
    assert word_key("métiers") == word_key("metier")
    assert word_key("cristaux") == word_key("cristal")


def _ix(*labels):
    class T:  # a Term-like row
        def __init__(self, i, label, alts=()):
            self.id, self.label, self.alt_labels, self.kind, self.designation = i, label, list(alts), TermKind.trade, None

    return TermIndex([T(i, *l) if isinstance(l, tuple) else T(i, l) for i, l in enumerate(labels, 1)])


def test_exact_lemma_multiword_and_fuzzy_matching():
    ix = _ix("fileur", "métier à tisser", "herscheur", "porion", "galibot")
    m = find_mentions(tokens("Ma mère était FILEUSE chez Motte-Bossut"), ix)
    assert [(x.term_id, x.how) for x in m] == [(1, "lemma")]
    m = find_mentions(tokens("il y avait trois Métiers a tisser dans l'atelier"), ix)
    assert [(x.term_id, x.how, x.end - x.start) for x in m] == [(2, "lemma", 3)]
    m = find_mentions(tokens("le galibot poussait"), ix)
    assert m[0].how == "exact" and m[0].confidence == 1.0
    m = find_mentions(tokens("les hercheuses poussaient les berlines"), ix)  # misrecognised
    assert [(x.term_id, x.how) for x in m] == [(3, "fuzzy")] and m[0].confidence < 0.9
    assert find_mentions(tokens("une portion de frites"), ix) == []  # a real word, not a misheard trade
    assert find_mentions(tokens("le métier de mon père"), ix) == []  # only part of a multi-word label


def test_link_corpus_transcripts_with_clips_from_word_timings(ws, tmp_path, corpus, cli):
    import_vocab(ws, STARTER.parents[3] / "interviews" / "vocabulaire-demo.csv", "subject")
    sents = [corpus_text(corpus, n) for n in ("fleurs_fr_000", "fleurs_fr_003", "fleurs_fr_004", "fleurs_fr_008")]
    make_interview(ws, "2022-lecteurs", sents)
    rep = link_interviews(ws, ["2022-lecteurs"])
    assert rep.done == ["2022-lecteurs"] and not rep.failed
    found = {label for label, _ in _links(ws, "2022-lecteurs")}
    assert {"accident", "incendie", "grands félins", "aviation", "Mashhad", "chimie", "recherche universitaire"} <= found
    label, l = next(x for x in _links(ws, "2022-lecteurs") if x[0] == "aviation")
    # the clip is the sentence (segment 3): from its first word to its last word
    seg_start = sum(len(s.split()) * 320 + 600 for s in sents[:2])
    assert l.start_ms == seg_start and l.end_ms == seg_start + len(sents[2].split()) * 320
    assert "avion de ligne" in l.quote and l.status == LinkStatus.suggested
    # show --json carries the links
    shown = json.loads(cli("show", "2022-lecteurs", "--json").output)
    assert any(x["term"] == "aviation" and x["status"] == "suggested" for x in shown["links"])
    # unchanged vocabulary and transcript: skipped
    assert link_interviews(ws, ["2022-lecteurs"]).skipped == ["2022-lecteurs"]


def test_rejected_suggestion_is_never_suggested_again(ws, tmp_path, corpus, cli):
    _vocab(ws, tmp_path, "lion,\ntigre,\n", "subject")
    make_interview(ws, "i1", [corpus_text(corpus, "fleurs_fr_003")])
    assert cli("link", "i1").exit_code == 0
    links = json.loads(cli("link", "list", "i1", "--json").output)
    assert sorted(l["term"] for l in links) == ["lion", "tigre"]
    lion = next(l for l in links if l["term"] == "lion")
    tigre = next(l for l in links if l["term"] == "tigre")
    assert cli("link", "reject", lion["id"]).exit_code == 0
    assert cli("link", "accept", tigre["id"]).exit_code == 0
    r = cli("link", "i1", "--force", "--json")
    assert r.exit_code == 0, r.output
    after = json.loads(cli("link", "list", "i1", "--json").output)
    assert [(l["term"], l["status"]) for l in after] == [("tigre", "accepted"), ("lion", "rejected")] or \
        sorted((l["term"], l["status"]) for l in after) == [("lion", "rejected"), ("tigre", "accepted")]
    # a new vocabulary term: the interview is linked again without --force, rejected stays rejected
    _vocab(ws, tmp_path, "lion,\ntigre,\nrugissement,\n", "subject")
    assert cli("link", "--all").exit_code == 0
    after = json.loads(cli("link", "list", "i1", "--json").output)
    assert sorted((l["term"], l["status"]) for l in after) == [
        ("lion", "rejected"), ("rugissement", "suggested"), ("tigre", "accepted")]


def test_link_add_remove_and_missing_transcript(ws, tmp_path, corpus, cli):
    _vocab(ws, tmp_path, "course automobile,course\n", "subject")
    make_interview(ws, "i2", [corpus_text(corpus, "fleurs_fr_005")])
    r = cli("link", "add", "i2", "0", "00:00:02.5", "course automobile")
    assert r.exit_code == 0, r.output
    links = json.loads(cli("link", "list", "i2", "--json").output)
    assert links[0]["source"] == "manual" and links[0]["end_ms"] == 2500 and "fisichella" in links[0]["quote"]
    assert cli("link", "remove", links[0]["id"]).exit_code == 0
    assert cli("link", "add", "i2", "0", "2", "pas un terme").exit_code == 2
    with db.session(ws) as s:
        from oralhist.records import Interview

        s.add(Interview(id="vide", title="sans transcription"))
        s.commit()
    r = cli("link", "vide")
    assert r.exit_code == 1 and "no transcript yet" in r.output


def test_link_follows_the_current_transcript_version(ws, tmp_path, corpus):
    _vocab(ws, tmp_path, "verrier,souffleur de verre\n")
    make_interview(ws, "i3", ["mon grand-père était souffleur de verre à Arques"])
    link_interviews(ws, ["i3"])
    assert [l for l, _ in _links(ws, "i3")] == ["verrier"]
    make_interview(ws, "i3", ["mon grand-père était mineur à Lens"], version=2)  # an editor's correction
    rep = link_interviews(ws, ["i3"])
    assert rep.done == ["i3"] and _links(ws, "i3") == []
