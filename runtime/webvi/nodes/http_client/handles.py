"""Client handles: the refnums that Open Handle returns and the state each one holds.

A handle contains request headers (an ordered map with exact, case-sensitive names), the
include-credentials-during-CORS flag, an optional username and password, and whether a
failed credentialed request may be diagnosed with extra requests. Refnums start at 1,
count up and are never reused, so a stale refnum cannot reach another handle's headers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field


@dataclass(eq=False)
class ClientHandle:
    """The state behind one refnum."""

    refnum: int
    username: str = ""
    password: str = ""
    include_credentials: bool = False
    diagnose_failures: bool = True
    headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Never show the password or header values (an Authorization header is a secret).
        return (
            f"ClientHandle(refnum={self.refnum}, include_credentials={self.include_credentials}, "
            f"headers={list(self.headers)}, username_set={bool(self.username)})"
        )

    def wipe(self) -> None:
        """Forget the credentials and headers, as Close Handle does."""
        self.username = ""
        self.password = ""
        self.headers.clear()
        self.include_credentials = False


class HandleTable:
    """The open handles of one runtime (one page, or one CPython process)."""

    def __init__(self) -> None:
        self._handles: dict[int, ClientHandle] = {}
        self._refnums = itertools.count(1)

    def open(self, username: str = "", password: str = "") -> ClientHandle:
        handle = ClientHandle(next(self._refnums), username=username, password=password)
        self._handles[handle.refnum] = handle
        return handle

    def get(self, refnum: int) -> ClientHandle | None:
        return self._handles.get(refnum)

    def close(self, refnum: int) -> bool:
        """Wipe and remove a handle; return False when the refnum was not open."""
        handle = self._handles.pop(refnum, None)
        if handle is None:
            return False
        handle.wipe()
        return True

    def __len__(self) -> int:
        return len(self._handles)

    def __contains__(self, refnum: int) -> bool:
        return refnum in self._handles
