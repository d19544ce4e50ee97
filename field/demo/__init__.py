"""A synthetic, deterministic demo of Takhai on the real boundaries of Khon Kaen.

``generate`` builds everything in memory from the tambons (villages, clusters,
schools, households, children, registers, volunteers); ``load`` writes the
places, schools, teams, volunteers and logins to the database; ``writers``
writes the registry files the next import step reads. See ``seed_demo``.
"""
