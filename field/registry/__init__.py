"""Building blocks of the registry importer: identifiers, dates and tables.

Pure code: no models and no database, so the checks can run on any file before
anything is written.
"""
