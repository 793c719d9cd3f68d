"""The prompt interpreter (issue 16)."""
