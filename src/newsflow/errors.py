"""Every error newsflow raises on purpose.

    NewsflowError
    ├── ConfigError          bad or unknown setting; the CLI exits 2
    ├── StoreError           the database refused or is out of date
    ├── FetchError           a source could not be fetched (carries a readable reason)
    ├── ParseError           a body could not be read as the expected format
    ├── EnrichError          an enrichment step failed for one paper
    ├── TemplateError        a draft template failed to render
    ├── ReviewError          a review action was refused
    │   ├── TransitionError  the transition table forbids it
    │   ├── StaleVersionError the draft changed since the caller read it
    │   └── BlockedError     a blocking check fails and no override was given
    ├── AuthError            unknown user, bad password, disabled account
    └── PublishError         an approved draft could not be written out

Messages say what happened and, where there is one, what to do next.
"""

from __future__ import annotations


class NewsflowError(Exception):
    """Base class; the CLI prints ``str(err)`` and exits with ``exit_code``."""

    exit_code = 1


class ConfigError(NewsflowError):
    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None,
                 allowed: str | None = None) -> None:
        self.path = path
        self.key = key
        self.allowed = allowed
        parts = []
        if path:
            parts.append(str(path))
        if key:
            parts.append(f"key '{key}'")
        prefix = ": ".join(parts)
        text = f"{prefix}: {message}" if prefix else message
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class StoreError(NewsflowError):
    pass


class FetchError(NewsflowError):
    def __init__(self, reason: str, *, http_status: int | None = None) -> None:
        self.reason = reason
        self.http_status = http_status
        super().__init__(reason)


class ParseError(NewsflowError):
    pass


class EnrichError(NewsflowError):
    pass


class TemplateError(NewsflowError):
    pass


class ReviewError(NewsflowError):
    pass


class TransitionError(ReviewError):
    pass


class StaleVersionError(ReviewError):
    def __init__(self, message: str, *, current_version: int | None = None,
                 changes: str | None = None) -> None:
        self.current_version = current_version
        self.changes = changes
        super().__init__(message)


class BlockedError(ReviewError):
    pass


class AuthError(NewsflowError):
    pass


class PublishError(NewsflowError):
    pass
