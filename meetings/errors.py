"""The one refusal of meetings: a MeetingError carries the Chinese sentence the user sees."""

from __future__ import annotations


class MeetingError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
