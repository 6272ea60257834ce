"""Errors and warnings of ``stance``.

Hierarchy::

    StanceError(Exception)
    ├── InputFormatError(StanceError, ValueError)       bad input file/row; names file and line
    ├── StreamStoppedError(InputFormatError)            reading stopped part-way (corrupt gzip, size limit)
    ├── ActorRegistryError(InputFormatError)            bad actor registry file (syntax, types, nesting)
    ├── DataValidationError(InputFormatError)           bad labelled training data (all rows)
    ├── CodingSheetError(InputFormatError)              bad hand-coding sheet or key (names file and line)
    ├── ModelNotFoundError(StanceError, FileNotFoundError)
    ├── ModelIntegrityError(StanceError, RuntimeError)  truncated, tampered or malformed model file
    ├── ModelWriteError(StanceError, OSError)           a model cannot be saved where asked
    ├── OutputFolderError(StanceError, OSError)         --out not writable, locked, or holding others' files
    ├── IncompatibleModelError(StanceError, RuntimeError)
    ├── UnknownLanguageError(StanceError, ValueError)   no language pack for a code (stance.lang)
    └── PipelineBuildError(StanceError, RuntimeError)   spaCy pipeline cannot be built

Warnings about the input (such as an implausible article date) are not raised: they are
recorded on the article (``Article.warnings``) and shown in the report and CLI summary.

``NotFittedError`` is scikit-learn's (``sklearn.exceptions.NotFittedError``).
"""

from __future__ import annotations

from collections.abc import Iterable

RETRAIN_HINT = (
    "Retrain it with `stance train --data training/data --out MODEL_DIR` "
    "or use the packaged default model (`stance.load()`)."
)


class StanceError(Exception):
    """Root of all errors raised by ``stance``."""


class OutputFolderError(StanceError, OSError):
    """The output folder cannot be used: not writable, locked by another run, or not ours to replace."""


class UnknownLanguageError(StanceError, ValueError):
    """No :class:`~stance.lang.LanguagePack` is registered for a language code."""


class InputFormatError(StanceError, ValueError):
    """An input file or row is malformed; the message names the file and line."""


class StreamStoppedError(InputFormatError):
    """Reading a file stopped part-way (damaged compressed data, a size limit); what came before stands."""


class ActorRegistryError(InputFormatError):
    """The actor registry file is malformed (syntax error, duplicate id, bad period)."""


class DataValidationError(InputFormatError):
    """Labelled data failed validation; ``problems`` lists every bad row."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        shown = "\n  ".join(self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the labelled data:\n  {shown}{more}")


class CodingSheetError(InputFormatError):
    """A hand-coding sheet (``stance sample`` / ``stance validate``) or its key file is malformed;
    the message names the file and line."""


class ModelNotFoundError(StanceError, FileNotFoundError):
    """No model files where a model was expected."""


class ModelIntegrityError(StanceError, RuntimeError):
    """A model file is truncated, tampered with, unreadable or malformed (its sidecar included)."""


class ModelWriteError(StanceError, OSError):
    """A model cannot be saved: the target is not a model folder, or writing failed (the previous model stays)."""


class IncompatibleModelError(StanceError, RuntimeError):
    """A model was saved by an incompatible version of stance or scikit-learn."""


class PipelineBuildError(StanceError, RuntimeError):
    """The spaCy pipeline cannot be built (for example spaCy's German language data is broken)."""


def bad_value(name: str, value: object, accepted: Iterable[object] | str, hint: str = "") -> str:
    """Build an error message: the name, the bad value, what is accepted, and a fix hint.

    Examples
    --------
    >>> bad_value("freq", "year", ("day", "week", "month"))
    "freq: got 'year', expected one of 'day', 'week', 'month'"
    """
    if isinstance(accepted, str):
        expected = accepted
    else:
        expected = "one of " + ", ".join(repr(a) for a in accepted)
    message = f"{name}: got {value!r}, expected {expected}"
    return f"{message}. {hint}" if hint else message
