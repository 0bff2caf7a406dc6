"""The evaluation normaliser (French-fair) and `oralhist eval` on one real clip."""

from __future__ import annotations

import json
import shutil

import pytest

from oralhist.recognition.evaluate import clip_language, find_clips, normalise, score


@pytest.mark.parametrize("a, b", [
    ("L’usine", "l'usine"),                               # typographic apostrophe
    ("C'était peut-être là-bas.", "c était peut être là bas"),  # elision, hyphens, punctuation
    ("En 1998, il avait 14 ans.", "en mille neuf cent quatre-vingt-dix-huit il avait quatorze ans"),
    ("le 2e atelier", "le deuxième atelier"),
    ("le 1er mai", "le premier mai"),
    ("10 000 ouvriers", "dix mille ouvriers"),
    ("M. Dupont et Mme Leroy", "monsieur Dupont et madame Leroy"),
    ("Euh, ben, on bossait, hein !", "on bossait"),       # fillers dropped on both sides
    ("ouais euh c'est ça", "c'est ça"),
    ("le cœur de l'œuvre", "le coeur de l oeuvre"),
    ("« Bonjour » dit-il…", "bonjour dit il"),
    ("À 14h30", "à quatorze heures trente"),
    ("au XIXe siècle", "au dix-neuvième siècle"),     # Roman ordinals
    ("dans le XIème", "dans le onzième"),
])
def test_french_normaliser_equates(a, b):
    assert normalise(a, "fr") == normalise(b, "fr")


def test_normaliser_keeps_what_matters():
    assert normalise("à", "fr") != normalise("a", "fr")  # accents are spelling
    assert normalise("Élève", "fr") == "élève"
    assert normalise("la vie me plaît", "fr") == "la vie me plaît"  # not Roman numerals
    assert normalise("Uh, I was, um, 21", "en") == "i was twenty one"


def test_score_counts_errors_after_normalisation():
    sc = score("Euh, l'usine a fermé en 1998.", "L’usine a fermé en mille neuf cent quatre-vingt-dix-huit", "fr")
    assert sc["errors"] == 0 and sc["char_errors"] == 0
    sc = score("la filature ferme", "la fabrique ferme", "fr")
    assert sc["errors"] == 1 and sc["ref_words"] == 3


def test_find_clips_and_language(corpus, tmp_path):
    pairs = find_clips(corpus)
    names = {a.name for a, _ in pairs}
    assert "fleurs_fr_005.ogg" in names and "fasterwhisper_jfk.flac" in names
    for a, r in pairs:
        assert r.suffix == ".txt" and r.stem == a.stem
    a = corpus / "fr" / "fleurs_fr_005.ogg"
    assert clip_language(a, corpus, None) == "fr"
    assert clip_language(a, corpus, "en") == "en"
    assert clip_language(a, corpus / "fr", None) == "auto"


@pytest.mark.slow
def test_eval_command_json(cli, corpus, tmp_path):
    d = tmp_path / "clips" / "fr"
    d.mkdir(parents=True)
    for suffix in (".ogg", ".txt"):
        shutil.copy(corpus / "fr" / f"fleurs_fr_005{suffix}", d / f"fleurs_fr_005{suffix}")
    r = cli("eval", str(tmp_path / "clips"), "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    assert rep["pooled"]["clips"] == 1
    clip = rep["clips"][0]
    assert clip["language"] == "fr" and clip["ref_words"] > 10
    assert 0 <= clip["wer"] < 0.4 and 0 <= clip["cer"] < clip["wer"] + 0.01
    assert clip["rtf"] > 0 and rep["by_language"]["fr"]["wer"] == clip["wer"]
    r = cli("eval", str(tmp_path / "nothing-here"))
    assert r.exit_code == 2 and "not a folder" in r.output
