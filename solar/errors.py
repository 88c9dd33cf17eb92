"""Domain exceptions. The web layer maps each class to one HTTP status code."""

from __future__ import annotations


class CadastreError(Exception):
    """Base class of every error the domain raises on purpose."""


class InputError(CadastreError):
    """Bad input from a user: a file, a field or a line that cannot be used.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    source : str, optional
        The file path or the field name at fault.
    line : int, optional
        The 1-based line number in ``source``, when it is a text file.

    Examples
    --------
    >>> str(InputError("expected 'Horodate;Valeur'", source="conso.csv", line=3))
    "conso.csv: line 3: expected 'Horodate;Valeur'"
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, f"line {self.line}" if self.line else None) if p]
        return ": ".join([*parts, self.message])


class PayloadTooLarge(InputError):
    """An uploaded file is larger than the service accepts."""


class NotFound(CadastreError):
    """An id or a location that the cadastre does not hold."""


class NoBuildingAtAddress(NotFound):
    """The address exists but no building of the cadastre lies under it."""
