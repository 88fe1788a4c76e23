"""Why a page cannot be shown: no live session, or an error (its page is
``web.error_pages``)."""

from __future__ import annotations


class SignInRequired(Exception):
    """No live session: the viewer signs in, then comes back to ``path``."""

    def __init__(self, path: str, *, ended: bool = False) -> None:
        super().__init__(path)
        self.path = path
        self.ended = ended


class PageError(Exception):
    """A page that cannot be shown (404) or an action that is not allowed (403)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
