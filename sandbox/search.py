"""Case-insensitive matching that folds æ, ø, å and every other letter alike on every database.

SQLite's LIKE folds ASCII only and PostgreSQL's depends on its collation, so the sandbox never asks
the database to fold: it stores a folded copy of the searchable text and searches it with the
folded term, a plain substring match that behaves identically everywhere.
"""

import unicodedata


def fold_for_search(text: str) -> str:
    """Compatibility-normalise and casefold, so "ÅSE", "åse" and "a\u030ase" all match."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
