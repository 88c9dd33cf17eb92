"""Text folding shared by the address search and the load-curve readers.

>>> fold("Béthune — Rue de l'Église")
"bethune — rue de l'eglise"
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case text without its accents (NFKD decomposition, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
