"""Learning one listener's taste: simulated listeners, the personal reward model, active
learning and the profiles that hold a fitted model (``compose learn``, ``--profile NAME``)."""
