"""The application edge: the library API the CLI calls, safe output writing, progress."""
