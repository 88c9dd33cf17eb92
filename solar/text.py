"""Text folding shared by the address search and the load-curve readers.

>>> fold("Béthune — Rue de l'Église")
"bethune — rue de l'eglise"
>>> fold("Rue du Cœur, Lætitia")
'rue du coeur, laetitia'
"""

from __future__ import annotations

import unicodedata

# French ligatures that Unicode does not decompose (NFKD keeps œ and æ whole).
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})


def fold(text: str) -> str:
    """Lower-case text without its accents (NFKD decomposition, combining marks dropped),
    the ligatures œ and æ written out."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
