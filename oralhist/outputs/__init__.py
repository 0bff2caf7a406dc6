"""Outputs layer: staff exports, the public site, the OAI-PMH feed, exhibitions, objects and clips."""
