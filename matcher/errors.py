"""Errors raised by the matcher library.

The library raises; callers translate (a CSV error-report row, a form message, a 400).
Every error names the field (or the YAML key) at fault and says what was expected.
"""

from __future__ import annotations


class MatcherError(ValueError):
    """Base class of every error the library raises on bad input."""


class InvalidValue(MatcherError):
    """A profile value that cannot be read.

    Parameters
    ----------
    field : str
        The profile field (CSV column) at fault, e.g. ``"investment_usd"``.
    value : str
        The value as given.
    reason : str
        What was expected, in plain English: a :class:`matcher.messages.Reason` carries its reason
        code (``code``) and parameters, which the callers translate by.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        #: The reason code (a key of :data:`matcher.messages.REASONS`; "" for a reason given as plain text).
        self.code: str = getattr(reason, "code", "")
        got = "" if value is None or str(value).strip() == "" else f" (got {str(value)[:60]!r})"
        super().__init__(f"{field}: {reason}{got}")


class ConfigError(MatcherError):
    """A ``sectors.yaml`` that cannot be used; names the key, the line and the problem.

    ``code`` and ``params`` say the problem again for translation (the web pages word it in
    the reader's language): ``"number"`` (not a finite number; ``value``), ``"range"``
    (``low``, ``high``, ``value``) and ``"total"`` (criterion weights adding up to less than
    ``low``; ``value``). Other problems have ``code == ""``.
    """

    def __init__(
        self,
        key: str,
        problem: str,
        line: int | None = None,
        path: str = "",
        *,
        code: str = "",
        params: dict | None = None,
    ) -> None:
        self.key = key
        self.problem = problem
        self.line = line
        self.path = path
        self.code = code
        self.params = dict(params or {})
        where = f"{path}:" if path else ""
        where += f"{line}: " if line else " " if path else ""
        super().__init__(f"{where}{key}: {problem}")

    def located(self, line: int | None, path: str) -> ConfigError:
        """The same error, said to be at ``line`` of the file ``path``."""
        return ConfigError(self.key, self.problem, line, path, code=self.code, params=self.params)


class InputFileError(MatcherError):
    """A CSV file that cannot be read at all (empty, binary, no ``name`` column)."""
