"""Build time: corpus reading and training of the melody model and the reward model (torch
optimisers, music21's corpus). Nothing at compose time imports this package."""
