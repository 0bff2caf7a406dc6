"""Editorial layer: the read model (view), corrections, review, consent, topics, links, vocabulary and search."""
