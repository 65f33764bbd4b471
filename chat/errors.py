"""The one refusal of chat: a ChatError carries the Chinese sentence the user sees."""

from __future__ import annotations


class ChatError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
