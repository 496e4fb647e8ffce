"""The one exception tree of recall_fast.

Every error the package raises derives from :class:`RecallError`; each subclass also inherits the
builtin exception a caller would naturally catch (a :class:`DecodeError` is a ``ValueError``, an
I/O failure an ``OSError``). The native extension raises these same classes: its error mapping
(``rust/recall-py/src/errors.rs``) imports this module, so there is exactly one tree.

This module must not import ``recall_fast._native`` (the extension imports it).
"""

from __future__ import annotations


class RecallError(Exception):
    """Root of every recall_fast error."""


class DecodeError(RecallError, ValueError):
    """The input cannot be decoded as a Zeek log (wrong format, not a log at all)."""


class DecompressError(DecodeError):
    """A compressed stream is truncated or corrupt; records before the offset were delivered."""


class LimitExceededError(RecallError, ValueError):
    """A configured safety limit (decompressed bytes, ratio, columns, line size) was exceeded."""


class ConfigError(RecallError, ValueError):
    """A configuration value is invalid (option, tenant name, index pattern)."""


class RecallIOError(RecallError, OSError):
    """Reading or writing a file or stream failed."""


class InternalError(RecallError, RuntimeError):
    """A bug in recall_fast (including a caught Rust panic); please report it."""


__all__ = [
    "ConfigError",
    "DecodeError",
    "DecompressError",
    "InternalError",
    "LimitExceededError",
    "RecallError",
    "RecallIOError",
]
