"""Re-alignment of edited text to recognised words, on real recogniser output."""

from __future__ import annotations

import random

import pytest

from editdata import old_segments
from oralhist.recognition.align import NewSegment, group_units, norm, realign


def _times(segments):
    return {(w.start_ms, w.end_ms, w.text.strip()) for sg in segments for w in sg.words}


@pytest.mark.parametrize("strip", [False, True], ids=["raw-words", "stripped-words"])
def test_unchanged_text_keeps_every_word_exactly(strip):
    old = old_segments(strip)
    res = realign(old, [NewSegment(o.text) for o in old])
    assert [w for sg in res.segments for w in sg.words] == [w for o in old for w in o.words]
    assert res.stats.kept == sum(len(o.words) for o in old)
    assert res.stats.changed == res.stats.inserted == res.stats.deleted == 0
    assert [(sg.start_ms, sg.end_ms) for sg in res.segments] == [(o.words[0].start_ms, o.words[-1].end_ms) for o in old]


def test_subword_pieces_are_grouped_into_tokens():
    old = old_segments(strip=True)
    units = [u[0] for u in group_units(old[0].words)]
    assert "d'accord" in units and "États-Unis," in units
    raw = [u[0] for u in group_units(old_segments(strip=False)[0].words)]
    assert raw == units


@pytest.mark.parametrize("strip", [False, True], ids=["raw-words", "stripped-words"])
def test_corrections_keep_untouched_words_and_interpolate_new_ones(strip):
    old = old_segments(strip)
    texts = [o.text for o in old]
    texts[1] = texts[1].replace("atlettes", "athlètes")  # one word changed
    texts[2] = texts[2].replace("t'attetent au mieux servi.", "pourraient être mieux servis.")  # 3 words for 4
    texts[4] = "de la révocation d'accréditation."  # a word inserted and one changed
    texts[7] = texts[7].replace("Justement du team, ", "")  # words deleted
    res = realign(old, [NewSegment(t) for t in texts])
    st = res.stats
    assert st.unplaced == []
    # every word outside the edits keeps its exact times
    before = {(w.start_ms, w.end_ms, w.text.strip()) for o in old for w in o.words}
    after = _times(res.segments)
    edited_words = {"atlettes", "t", "'attetent", "au", "mieux", "servi.", "créditation.", "Justement", "du", "team,"}
    untouched = {w for w in before if w[2] not in edited_words}
    assert untouched <= after
    seg1 = res.segments[1]
    ath = next(w for w in seg1.words if w.text.strip() == "athlètes")
    orig = next(w for w in old[1].words if w.text.strip() == "atlettes")
    assert (ath.start_ms, ath.end_ms) == (orig.start_ms, orig.end_ms)  # word for word: same slot
    seg4 = res.segments[4]
    assert [w.text.strip() for w in seg4.words] == ["de", "la", "révocation", "d'accréditation."]
    starts = [w.start_ms for sg in res.segments for w in sg.words]
    assert starts == sorted(starts), "times never go backwards"
    assert all(w.end_ms >= w.start_ms for sg in res.segments for w in sg.words)
    assert "Justement" not in {w.text.strip() for w in res.segments[7].words}
    assert st.deleted >= 3 and st.changed >= 4 and st.inserted >= 1


def test_case_and_punctuation_changes_keep_times():
    old = old_segments(strip=True)
    texts = [o.text for o in old]
    texts[0] = texts[0].replace("Limpic", "limpic").replace("l'Usoc,", "l’USOC")
    res = realign(old, [NewSegment(t) for t in texts])
    w = next(w for w in res.segments[0].words if w.text == "l’USOC")
    src = [x for x in old[0].words if x.text in ("l", "'Usoc,")]
    assert (w.start_ms, w.end_ms) == (src[0].start_ms, src[-1].end_ms)
    assert res.stats.retimed == 2 and res.stats.changed == 0


def test_split_and_merge_segments():
    old = old_segments(strip=True)
    texts = [o.text for o in old]
    # split segment 2 after "servi." and merge segments 3 and 4
    a, b = texts[2].split(" Cela ", 1)
    new_texts = texts[:2] + [a, "Cela " + b, texts[3] + " " + texts[4]] + texts[5:]
    res = realign(old, [NewSegment(t) for t in new_texts])
    assert len(res.segments) == len(old)
    assert res.stats.kept == sum(len(o.words) for o in old)
    split_word = next(w for w in old[2].words if w.text == "Cela")
    assert res.segments[3].start_ms == split_word.start_ms
    assert res.segments[2].end_ms <= split_word.start_ms
    assert res.segments[4].start_ms == old[3].words[0].start_ms
    assert res.segments[4].end_ms == old[4].words[-1].end_ms


def test_words_added_in_a_silence_are_placed_next_to_a_neighbour():
    old = old_segments(strip=True)
    texts = [o.text for o in old]
    texts[5] = "(rires) " + texts[5]  # seg 5 starts after a 3 s silence
    res = realign(old, [NewSegment(t) for t in texts])
    w = res.segments[5].words[0]
    assert w.text == "(rires)"
    assert w.end_ms == old[5].words[0].start_ms and w.start_ms < w.end_ms
    assert old[4].words[-1].end_ms <= w.start_ms


def test_insertion_with_no_room_is_reported():
    old = old_segments(strip=True)
    texts = [o.text for o in old]
    # between two words that touch ("selon" ends where "laquelle" starts)
    texts[1] = texts[1].replace("selon laquelle", "selon donc laquelle")
    res = realign(old, [NewSegment(t) for t in texts])
    assert res.stats.unplaced == ["donc"]
    w = next(w for w in res.segments[1].words if w.text == "donc")
    assert w.start_ms == w.end_ms


def test_norm():
    assert norm("L’Usine,") == norm("l'usine") == "l'usine"
    assert norm("«") == "«"


def test_random_edits_never_move_untouched_words():
    rng = random.Random(7)
    old = old_segments(strip=False)
    for _ in range(20):
        texts = []
        touched = set()
        for i, o in enumerate(old):
            # work on whole tokens (glue pieces as group_units does)
            units = [u for u in group_units(o.words)]
            out = []
            for j, (t, members) in enumerate(units):
                r = rng.random()
                # Deleting one of two equal words close together ("de développement, de") is
                # ambiguous: either "de" may be the one kept. Such words are left alone here.
                near = {norm(u[0]) for u in units[max(0, j - 3): j] + units[j + 1: j + 4]}
                if norm(t) in near:
                    r = 1.0
                if r < 0.05:
                    out.append(t.upper() + "x")
                    touched.update((m.start_ms, m.end_ms) for m in members)
                elif r < 0.07:
                    touched.update((m.start_ms, m.end_ms) for m in members)
                elif r < 0.09:
                    out += [t, "ajouté"]
                else:
                    out.append(t)
            texts.append(" ".join(out))
        res = realign(old, [NewSegment(t) for t in texts])
        after = {(w.start_ms, w.end_ms, w.text) for sg in res.segments for w in sg.words}
        for o in old:
            for w in o.words:
                if (w.start_ms, w.end_ms) not in touched:
                    assert (w.start_ms, w.end_ms, w.text) in after
