"""Issue 13 item 6: a topic's machine title is a short noun phrase of the segment, not a list."""

from __future__ import annotations

import json
from pathlib import Path

from oralhist.editorial import topics

REPO = Path(__file__).resolve().parents[1]


def _title(text: str) -> str:
    sents = [topics.Sentence(start_ms=a, end_ms=b, text=t) for a, b, t in topics._split_text_times(text, 0, 60_000)]
    return topics.title_from(topics.keywords(text, "fr"), sents)


def test_noun_phrases_follow_french_syntax():
    nps = [topics._phrase_text(d, w) for d, w in topics.noun_phrases(
        "le même mois un autre avion de ligne a fait une sortie de piste à Mashhad et a heurté un mur")]
    assert "Une sortie de piste à Mashhad" in nps and "Un autre avion de ligne" in nps and "Un mur" in nps
    # a conjugated verb ends a phrase; "leur" before an infinitive is not a determiner
    assert [topics._phrase_text(d, w) for d, w in topics.noun_phrases("les mots seraient des cris")] == ["Les mots", "Les cris"]
    assert topics.noun_phrases("il faut leur demander") == []


def test_title_is_a_noun_phrase_from_the_text(corpus):
    text = (corpus / "fr" / "fleurs_fr_003.txt").read_text(encoding="utf-8")
    nps = [topics._phrase_text(d, w) for d, w in topics.noun_phrases(text)]
    t = _title(text)
    assert t in nps and t.startswith("Le rugissement"), (t, nps)  # the repeated word leads
    text = (corpus / "fr" / "fleurs_fr_005.txt").read_text(encoding="utf-8")
    assert _title(text) == "Le contrôle de sa voiture"


def test_no_title_of_the_reference_set_reads_as_a_list():
    asr = json.loads((REPO / "bench/data/asr-fr-base.json").read_text(encoding="utf-8"))["texts"]
    ref = json.loads((REPO / "bench/data/topic-titles-ref.json").read_text(encoding="utf-8"))["titles"]
    for key in ref:
        t = _title(asr[key])
        assert t and "," not in t and len(t.split()) <= 8 and t[0].isupper(), (key, t)
