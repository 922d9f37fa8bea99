"""Surveys, pure (issue 16; docs/surveys.md): definitions, answers, links, throttling, reviews and the
statistics of feedback (drivers, themes).

Nothing here reads the clock, a file or the store: time and data come in as arguments.
"""
