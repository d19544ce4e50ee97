"""The JSON API of the search teams' offline tablet app (``/api/v1/``)."""
