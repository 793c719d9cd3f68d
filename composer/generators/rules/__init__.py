"""The built-in ``rules`` generator: melody, chords and bass written by rule from the plan."""
