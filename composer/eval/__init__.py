"""Evaluation: metrics over notes, a MIDI reader, and the harness behind ``compose eval``."""
