"""Recognition layer: the speech model, transcription, word alignment, the hallucination guard and diarization."""
