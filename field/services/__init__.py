"""Writes of the field app: keyword-only, typed, atomic; ``full_clean`` then save.

One module per subject (``schools``, ``teams``, ``volunteers``, ``accounts``).
"""
