"""The hub's error tree. Permanent errors are answered and dead-lettered; transient ones retried.

Messages are written for the person who will read them: what is wrong, what to do. They
never contain personal data, so they are safe in logs and receipts.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class PermanentError(HubError):
    """Retrying will not help: reject, dead-letter, ack."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TransientError(HubError):
    """Retrying may help (database or Redis unavailable): leave the entry pending."""


class ConfigurationError(HubError):
    """The configuration files or settings are wrong; the hub cannot start."""
