"""Search: check, score and rank candidate batches, and stitch them into a song (the lattice)."""
