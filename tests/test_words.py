"""Whisper splits French elisions and hyphenated words into pieces; we store whole words."""

from faster_whisper.transcribe import Word

from oralhist.recognition.transcribe import _whole_words


def test_pieces_without_a_leading_space_join_the_previous_word():
    pieces = [
        Word(0.0, 0.2, " Nous", 0.9),
        Word(0.3, 0.4, " d", 0.8),
        Word(0.4, 0.8, "'accord", 0.7),
        Word(1.0, 1.2, " États", 0.9),
        Word(1.2, 1.5, "-Unis,", 0.95),
    ]
    words = _whole_words(pieces)
    assert [w.text.strip() for w in words] == ["Nous", "d'accord", "États-Unis,"]
    assert (words[1].start_ms, words[1].end_ms, words[1].probability) == (300, 800, 0.7)
    assert (words[2].start_ms, words[2].end_ms) == (1000, 1500)


def test_a_first_piece_without_space_stays_a_word():
    words = _whole_words([Word(0.0, 0.5, "Bonjour", 0.9), Word(0.6, 0.9, " Marcel", 0.8)])
    assert [w.text for w in words] == ["Bonjour", " Marcel"]
