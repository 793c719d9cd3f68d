"""Learning harmony from the music21 corpus: labelling, harmonising, fitting, shipping.

Only ``python -m planners.learn.build`` (and the tests that check it) import music21; the
compiler reads the shipped model file, so ``compose`` never needs the corpus.
"""
