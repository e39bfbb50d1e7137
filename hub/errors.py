"""The hub's error tree. Permanent errors are answered and dead-lettered; transient ones retried.

Messages are written for the person who will read them: what is wrong, what to do. They
never contain personal data, so they are safe in logs and receipts. `mask_secrets` takes
passwords and tokens out of any text that might quote a setting (a URL with a password).
"""

from __future__ import annotations

import re

# `scheme://user:password@host`: the password up to the last `@` before a space or a quote
# (an unencoded `@` in a password must not leave its tail visible).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s'\"]*):[^\s'\"]*@")
# `?password=…` in a Redis URL, `password=…` in a libpq keyword DSN.
_PASSWORD_PARAM = re.compile(r"(?P<head>\b(?:password|passwd|pwd)=)[^&\s'\"]+", re.IGNORECASE)
# A bearer token of `hub tokens issue` (`hub_<source>_<32 random characters>`), and any
# `Bearer …` credential.
_TOKEN = re.compile(r"\bhub_(?P<source>[a-z0-9][a-z0-9-]{0,62})_[A-Za-z0-9_-]{24,}")
_BEARER = re.compile(r"(?P<head>\bBearer\s+)\S+", re.IGNORECASE)
MASK = "***"


def mask_secrets(text: str) -> str:
    """`text` with passwords in URLs and DSNs and bearer tokens replaced by `***`.

    Cheap when there is nothing to mask (substring tests first: about 0.25 µs for a short
    string, a third of one regular-expression search), so it can run on every log line."""
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
    if "hub_" in text:
        text = _TOKEN.sub(rf"hub_\g<source>_{MASK}", text)
    lowered = text.lower()
    if "pass" in lowered or "pwd" in lowered:
        text = _PASSWORD_PARAM.sub(rf"\g<head>{MASK}", text)
    if "bearer" in lowered:
        text = _BEARER.sub(rf"\g<head>{MASK}", text)
    return text


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
    """The configuration files or settings are wrong; the hub cannot start.

    One line per problem, each saying which setting or file, what is wrong and what to do;
    secrets are masked here, so the lines are safe to print and to log. The CLI prints them
    and exits with `EXIT_CODE`."""

    EXIT_CODE = 2  # as for a usage error: the command cannot run as configured

    def __init__(self, *lines: str) -> None:
        self.lines = tuple(mask_secrets(line) for line in lines if line) or ("the configuration is not valid",)
        super().__init__("\n".join(self.lines))
