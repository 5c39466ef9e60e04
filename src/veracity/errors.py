"""The one hierarchy of errors veracity raises on purpose.

Every message says what went wrong *and* what to do about it. The CLI turns each
class into one line on stderr and an exit code (``exit_code``); the HTTP API turns
it into RFC 9457 problem JSON.

::

    VeracityError                  base class; never raised itself
    ├── InputError                 bad user input (exit 2)
    │   ├── InputTooLargeError     over an explicit size/count limit
    │   ├── DataFormatError        a dataset file that cannot be read as asked
    │   └── SettingsError          a VERACITY_* variable has a value that is not allowed
    ├── StoreError                 the database cannot be opened or migrated (exit 2)
    ├── MissingExtraError          an optional extra is not installed; says what to pip install
    │                              (exit 2; also an ImportError)
    ├── ModelError                 problems with a model artifact (exit 3)
    │   ├── ModelNotFoundError     no artifact at the given place
    │   └── ModelIntegrityError    hash mismatch, untrusted types, bad card, zip bomb
    └── ServeError                 ``veracity serve`` cannot listen: port in use (exit 4)

CLI exit codes: 0 success, 1 an unexpected failure, 2 bad input, options, settings,
database configuration or a missing extra, 3 a model that cannot be used, 4 the web
service cannot listen on its host and port, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

__all__ = [
    "DataFormatError",
    "InputError",
    "InputTooLargeError",
    "MissingExtraError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "ServeError",
    "SettingsError",
    "StoreError",
    "VeracityError",
]


class VeracityError(Exception):
    """Base class of every error veracity raises deliberately."""

    exit_code: int = 1


class InputError(VeracityError, ValueError):
    """The input given by the user cannot be used; the message says how to fix it."""

    exit_code = 2


class InputTooLargeError(InputError):
    """The input is over an explicit limit (bytes, rows, documents)."""


class DataFormatError(InputError):
    """A dataset file is empty, binary, undecodable, lacks a column or has unknown labels."""


class SettingsError(InputError):
    """A ``VERACITY_*`` setting has a value outside what it allows; the message names it."""


class StoreError(VeracityError):
    """The database cannot be opened or migrated (bad URL, missing directory, not a database).

    Exit code 2: the fix is in the configuration (``VERACITY_DATABASE_URL``).
    """

    exit_code = 2


class MissingExtraError(VeracityError, ImportError):
    """A command, preset or model needs an optional extra that is not installed.

    The message names the extra and the command that installs it, e.g.
    ``veracity serve needs the 'serve' extra (no module named 'fastapi'): pip install
    "veracity[serve]"``. Exit code 2, like other setup problems whose fix is on the
    user's side; an :class:`ImportError` too, so ``except ImportError`` still catches it.
    """

    exit_code = 2


class ServeError(VeracityError):
    """``veracity serve`` cannot listen on its host and port (in use, or not this machine's).

    Exit code 4, so scripts can tell "pick another port" from bad input (2) and a bad
    model (3).
    """

    exit_code = 4


class ModelError(VeracityError):
    """A model artifact cannot be used."""

    exit_code = 3


class ModelNotFoundError(ModelError, FileNotFoundError):
    """No model artifact exists at the given location."""


class ModelIntegrityError(ModelError):
    """A model artifact failed verification (hash, allowed types or card mismatch)."""
