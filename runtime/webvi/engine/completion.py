"""A future that code outside the event loop completes, resuming its waiter in the same call.

asyncio.Future runs its done callbacks through `loop.call_soon`. In Pyodide every such
callback is a browser task of its own, so a result that JavaScript hands to Python (a
fetch response, say) waits one more task before the code awaiting it resumes. That task
cost about 0.2 ms per request on the 2-core benchmark machine. `Completion.deliver`
removes it: called from a JavaScript callback, where no Python code is running, it runs
the done callbacks at once.

Everything else follows asyncio.Future, so a Completion can be awaited by the engine's
scheduler and by an asyncio task alike: `set_result`, `set_exception` and `cancel`
schedule the done callbacks, as do callbacks added after the result is set.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_PENDING, _DONE, _CANCELLED = "pending", "done", "cancelled"

Callback = Callable[["Completion[Any]"], object]


class Completion(Generic[T]):
    """An awaitable result, set once, whose `deliver` wakes the waiter without a scheduled callback."""

    __slots__ = ("_loop", "_state", "_result", "_exception", "_cancel_message", "_callbacks", "_asyncio_future_blocking")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._state = _PENDING
        self._result: T | None = None
        self._exception: BaseException | None = None
        self._cancel_message: Any = None
        self._callbacks: list[tuple[Callback, contextvars.Context | None]] = []
        # asyncio.isfuture() and asyncio's tasks recognise a future by this attribute.
        self._asyncio_future_blocking = False

    def __repr__(self) -> str:
        return f"<Completion {self._state}>"

    # --- asyncio.Future's interface -----------------------------------------------------

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def result(self) -> T:
        if self._state == _CANCELLED:
            raise asyncio.CancelledError(self._cancel_message)
        if self._state == _PENDING:
            raise asyncio.InvalidStateError("the result is not set yet")
        if self._exception is not None:
            raise self._exception
        return self._result  # type: ignore[return-value]

    def exception(self) -> BaseException | None:
        if self._state == _CANCELLED:
            raise asyncio.CancelledError(self._cancel_message)
        if self._state == _PENDING:
            raise asyncio.InvalidStateError("the result is not set yet")
        return self._exception

    def add_done_callback(self, callback: Callback, *, context: contextvars.Context | None = None) -> None:
        if self._state == _PENDING:
            self._callbacks.append((callback, context))
        else:
            self._loop.call_soon(callback, self, context=context)

    def remove_done_callback(self, callback: Callback) -> int:
        remaining = [(function, context) for function, context in self._callbacks if function != callback]
        removed = len(self._callbacks) - len(remaining)
        self._callbacks = remaining
        return removed

    def set_result(self, result: T) -> None:
        self._settle(result, None)
        self._schedule_callbacks()

    def set_exception(self, exception: BaseException) -> None:
        self._settle(None, exception)
        self._schedule_callbacks()

    def cancel(self, msg: Any = None) -> bool:
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._cancel_message = msg
        self._schedule_callbacks()
        return True

    def __await__(self) -> Generator[Any, None, T]:
        if self._state == _PENDING:
            self._asyncio_future_blocking = True
            yield self
        if self._state == _PENDING:
            raise RuntimeError("await wasn't used with future")
        return self.result()

    __iter__ = __await__

    # --- completion from outside the event loop ---------------------------------------

    def deliver(self, result: T) -> None:
        """Set the result and run the done callbacks now; ignored once done or cancelled.

        Meant for callers outside the event loop's own callbacks, such as a JavaScript
        promise's handler. Inside a running asyncio task the callbacks are scheduled
        instead, because a task cannot be resumed from within another. A result that
        arrives after a cancel is dropped, because nothing waits for it any more.
        """
        if self._state != _PENDING:
            return
        self._settle(result, None)
        if asyncio.current_task(self._loop) is not None:
            self._schedule_callbacks()
            return
        callbacks, self._callbacks = self._callbacks, []
        for callback, context in callbacks:
            try:
                if context is None:
                    callback(self)
                else:
                    context.run(callback, self)
            except Exception as error:  # noqa: BLE001 - reported as asyncio reports a failed callback
                self._loop.call_exception_handler(
                    {"message": f"Exception in done callback {callback!r} of {self!r}", "exception": error}
                )

    # --- inside -------------------------------------------------------------------------

    def _settle(self, result: T | None, exception: BaseException | None) -> None:
        if self._state != _PENDING:
            raise asyncio.InvalidStateError(f"{self!r} is already {self._state}")
        self._result = result
        self._exception = exception
        self._state = _DONE

    def _schedule_callbacks(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback, context in callbacks:
            self._loop.call_soon(callback, self, context=context)
