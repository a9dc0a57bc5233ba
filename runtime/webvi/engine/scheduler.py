"""The dataflow scheduler: runs a checked VI's nodes as their inputs arrive.

A node becomes ready when every wired input has a value; unwired inputs take their
constant or default. Ready nodes run one after another in a plain loop, and a node's
coroutine is stepped directly: when it finishes without waiting, as most nodes do, that
is all. A node that really waits (I/O, a timer) is resumed by a done callback on the
future it awaits, so independent waiting branches run concurrently without an asyncio
task per node. This matters most in Pyodide, where every scheduled callback costs a
browser task (about 0.2 ms measured on the 2-core benchmark machine). The page's
transport and `Run.wait` use a Completion (webvi.engine.completion), so a response that
JavaScript delivers resumes the node, and when it was the last one the code waiting for
the run, in that same call.

NOTE: node coroutines therefore run outside any asyncio task of their own, so they must
not use asyncio.timeout(), asyncio.wait_for() or asyncio.current_task(). A timeout belongs
in the I/O layer, as the HTTP transport's does.

Standard error behavior, LabVIEW's merge rule and run-level failures (an unexpected
exception in a node, an abort) are applied here, so node implementations stay small.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webvi.diagram.validate import CheckedNode, CheckedVI
from webvi.engine.completion import Completion
from webvi.errors import NODE_EXCEPTION, NODE_OUTPUT_INVALID, ErrorCluster, describe, error_source, merge
from webvi.nodes.registry import NodeError
from webvi.types import ERROR_CLUSTER

log = logging.getLogger(__name__)

IndicatorCallback = Callable[[str, Any], None]
# A sink is (node index, input name, conversion); node index -1 means an indicator.
Sink = tuple[int, str, Callable[[Any], Any] | None]


@dataclass
class RunResult:
    """The outcome of a run: indicator values, and whether it was aborted or failed."""

    indicators: dict[str, Any]
    aborted: bool = False
    # Set when the run itself failed (a node raised an unexpected exception).
    error: ErrorCluster | None = None

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        return "aborted" if self.aborted else "finished"

    def to_json(self, indicator_types: Mapping[str, Any]) -> dict[str, Any]:
        """Return the result as JSON values: indicators by id (error clusters as objects)."""
        indicators = {
            indicator_id: indicator_types[indicator_id].to_json(value) for indicator_id, value in self.indicators.items()
        }
        error = None if self.error is None else ERROR_CLUSTER.to_json(self.error)
        return {"status": self.status, "indicators": indicators, "error": error}


class _NodePlan:
    """The per-node data a run needs (terminals, sinks, defaults), computed once per program."""

    __slots__ = (
        "index", "id", "name", "kind", "run", "standard", "cleanup", "abort_code", "base_inputs",
        "wired_input_count", "outputs", "output_names", "wired_outputs", "variadic", "passthrough",
        "defaults",
    )

    def __init__(self, index: int, checked: CheckedNode) -> None:
        kind = checked.kind
        self.index = index
        self.id = checked.node.id
        self.name = checked.name
        self.kind = kind
        self.run = kind.run
        self.standard = kind.standard_errors
        self.cleanup = kind.cleanup
        self.abort_code = kind.abort_code
        self.base_inputs: dict[str, Any] = {
            terminal.name: terminal.default for terminal in kind.inputs if not terminal.variadic
        }
        self.base_inputs.update(checked.constants)
        self.variadic: tuple[tuple[str, int, Any], ...] = tuple(
            (terminal.name, checked.variadic_sizes.get(terminal.name, 0), terminal.default)
            for terminal in kind.inputs
            if terminal.variadic
        )
        self.wired_input_count = len(checked.wired_inputs)
        self.defaults = {terminal.name: terminal.default for terminal in kind.outputs}
        engine_outputs = {"error_out"} if self.standard else set()
        self.output_names = frozenset(self.defaults) - engine_outputs
        self.passthrough = tuple(kind.passthrough.items())
        # (output name, default, type check, sinks) for each wired output; set by Program.
        self.outputs: list[tuple[str, Any, Callable[[Any], str | None], list[Sink]]] = []
        self.wired_outputs: frozenset[str] = frozenset()


class NodeContext:
    """The node's view of its run, besides its inputs: names, services, wired outputs and warnings."""

    __slots__ = ("_run", "_plan", "warning")

    def __init__(self, run: Run, plan: _NodePlan) -> None:
        self._run = run
        self._plan = plan
        self.warning: ErrorCluster | None = None

    @property
    def node_id(self) -> str:
        return self._plan.id

    @property
    def node_name(self) -> str:
        return self._plan.name

    @property
    def vi_name(self) -> str:
        return self._run.program.vi_name

    @property
    def services(self) -> Mapping[str, Any]:
        """Objects the host gave the run, by name (for example the HTTP client state)."""
        return self._run.services

    def is_wired(self, output: str) -> bool:
        """Return True when output reaches a wire, so that a node may skip computing unused outputs."""
        return output in self._plan.wired_outputs

    def warn(self, code: int, context: str = "", message: str | None = None) -> None:
        """Report a warning (status False) on error out; the first warning a node reports wins."""
        text = describe(code, context) if message is None else message
        warning = ErrorCluster(False, code, error_source(self._plan.name, self.vi_name, text))
        self.warning = warning if self.warning is None else merge(self.warning, warning)

    def on_run_end(self, callback: Callable[[], None]) -> None:
        """Call callback once when the run ends, however it ends (to release resources)."""
        self._run.end_callbacks.append(callback)


class _Suspended:
    """A node coroutine waiting on a future, resumed by that future's done callback."""

    __slots__ = ("run", "index", "context", "inputs", "coroutine", "waiting", "cancelling")

    def __init__(self, run: Run, index: int, context: NodeContext, inputs: dict[str, Any], coroutine) -> None:
        self.run = run
        self.index = index
        self.context = context
        self.inputs = inputs
        self.coroutine = coroutine
        self.waiting: asyncio.Future | None = None
        self.cancelling = False

    def wait_on(self, awaited: Any) -> None:
        """Arrange for the next step when what the coroutine yielded is done."""
        if awaited is None:
            # A bare yield (asyncio.sleep(0)) only lets other callbacks run first.
            self.run._loop.call_soon(self.step)
            return
        if not asyncio.isfuture(awaited) or not getattr(awaited, "_asyncio_future_blocking", False):
            self.coroutine.close()
            raise TypeError(f"a node awaited {awaited!r}, which is not an asyncio future")
        awaited._asyncio_future_blocking = False
        self.waiting = awaited
        awaited.add_done_callback(self._wakeup)

    def _wakeup(self, future: asyncio.Future) -> None:
        self.waiting = None
        self.step()

    def step(self) -> None:
        """Resume the coroutine once and hand its outcome to the run."""
        outputs: Any = None
        error: BaseException | None = None
        try:
            if self.cancelling and self.waiting is None:
                self.cancelling = False
                awaited = self.coroutine.throw(asyncio.CancelledError())
            else:
                # After a cancelled future, the coroutine's await raises CancelledError itself.
                awaited = self.coroutine.send(None)
        except StopIteration as stop:
            outputs = stop.value
        except BaseException as failure:  # noqa: BLE001 - sorted out by the run, which re-raises nothing
            error = failure
        else:
            try:
                self.wait_on(awaited)
                return
            except TypeError as failure:
                error = failure
        # Reported outside the except clauses: the run's end may resume the code waiting for
        # the run in this call, which must not see the node's exception as its context.
        self.run._suspended_finished(self, outputs, error)

    def cancel(self) -> None:
        """Deliver CancelledError into the coroutine at its next step."""
        self.cancelling = True
        if self.waiting is not None:
            self.waiting.cancel()


class Program:
    """A checked VI prepared for running, any number of times."""

    def __init__(self, checked: CheckedVI) -> None:
        self.checked = checked
        self.vi = checked.vi
        self.vi_name = checked.vi.name
        index_of = {node_id: index for index, node_id in enumerate(checked.order)}
        self.plans = [_NodePlan(index, checked.nodes[node_id]) for index, node_id in enumerate(checked.order)]
        self.control_sinks: dict[str, list[Sink]] = {}
        # Sinks of each node's outputs: output_sinks[node index][output name].
        output_sinks: list[dict[str, list[Sink]]] = [{} for _ in self.plans]
        for wire in checked.wires:
            if wire.sink.node_id is not None:
                sink: Sink = (index_of[wire.sink.node_id], wire.sink.terminal, wire.convert)
            else:
                sink = (-1, wire.sink.panel_id, wire.convert)
            if wire.source.node_id is not None:
                output_sinks[index_of[wire.source.node_id]].setdefault(wire.source.terminal, []).append(sink)
            else:
                self.control_sinks.setdefault(wire.source.panel_id, []).append(sink)
        for plan, sinks_by_output in zip(self.plans, output_sinks):
            terminals = plan.kind.output_terminals
            plan.outputs = [
                (name, terminals[name].default, terminals[name].type.check, sinks)
                for name, sinks in sinks_by_output.items()
            ]
            plan.wired_outputs = frozenset(sinks_by_output)
        self.initial_ready = [plan.index for plan in self.plans if plan.wired_input_count == 0]

    def control_values(self, controls: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Return every control's value for a run: the given ones, else the defaults.

        Raises ValueError naming the control when a value is unknown or does not fit its type.
        """
        values = dict(self.checked.control_defaults)
        for control_id, value in (controls or {}).items():
            data_type = self.checked.control_types.get(control_id)
            if data_type is None:
                known = ", ".join(self.checked.control_types) or "none"
                raise ValueError(f"the VI has no control {control_id!r}; controls: {known}")
            problem = data_type.validate(value)
            if problem:
                raise ValueError(f"control {control_id!r}: {problem}")
            values[control_id] = value
        return values

    def controls_from_json(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Convert control values given as JSON (by control id) to wire values.

        Raises ValueError naming the control when an id is unknown or a value does not fit.
        """
        values = {}
        for control_id, value in data.items():
            data_type = self.checked.control_types.get(control_id)
            if data_type is None:
                known = ", ".join(self.checked.control_types) or "none"
                raise ValueError(f"the VI has no control {control_id!r}; controls: {known}")
            try:
                values[control_id] = data_type.parse_json(value)
            except (ValueError, TypeError) as error:
                raise ValueError(f"control {control_id!r}: {error}") from None
        return values

    def start(
        self,
        controls: Mapping[str, Any] | None = None,
        *,
        services: Mapping[str, Any] | None = None,
        on_indicator: IndicatorCallback | None = None,
    ) -> Run:
        """Start a run in the running event loop and return it; nodes that need no waiting run now."""
        run = Run(self, self.control_values(controls), services or {}, on_indicator)
        run.begin()
        return run

    async def run(
        self,
        controls: Mapping[str, Any] | None = None,
        *,
        services: Mapping[str, Any] | None = None,
        on_indicator: IndicatorCallback | None = None,
    ) -> RunResult:
        """Run the VI once and return its result."""
        return await self.start(controls, services=services, on_indicator=on_indicator).wait()


@dataclass(eq=False)
class Run:
    """One execution of a program; `abort()` stops it and `wait()` returns its result."""

    program: Program
    controls: dict[str, Any]
    services: Mapping[str, Any]
    on_indicator: IndicatorCallback | None = None
    indicators: dict[str, Any] = field(default_factory=dict)
    end_callbacks: list[Callable[[], None]] = field(default_factory=list)
    error: ErrorCluster | None = None
    aborted: bool = False

    def __post_init__(self) -> None:
        plans = self.program.plans
        self._plans = plans
        self._pending = [plan.wired_input_count for plan in plans]
        self._inputs: list[dict[str, Any] | None] = [None] * len(plans)
        self._ready: deque[int] = deque()
        self._suspended: set[_Suspended] = set()
        self._remaining = len(plans)
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        self._result: RunResult | None = None
        self._waiters: list[Completion[RunResult]] = []

    # --- public -------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._result is not None

    def abort(self) -> None:
        """Stop the run: cancel the nodes waiting on I/O or timers and start no more nodes,
        except cleanup nodes such as Close Handle once their inputs arrive."""
        if self._result is not None or self._stopping:
            return
        log.info("aborting a run of %s with %d node(s) in flight", self.program.vi_name, len(self._suspended))
        self.aborted = True
        self._stop()

    async def wait(self) -> RunResult:
        """Wait for the run to end and return its result; cancelling the wait aborts the run."""
        if self._result is not None:
            return self._result
        # A Completion per waiter, delivered when the run ends: the waiting task resumes
        # in that call when the run ends in a callback from outside Python (a response).
        waiter: Completion[RunResult] = Completion(self._loop)
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            self.abort()
            raise

    # --- scheduling ---------------------------------------------------------------------

    def begin(self) -> None:
        for control_id, sinks in self.program.control_sinks.items():
            self._deliver(sinks, self.controls[control_id])
        self._ready.extend(self.program.initial_ready)
        self._drain()

    def _drain(self) -> None:
        ready = self._ready
        start = self._start_node
        while ready:
            start(ready.popleft())
        self._check_finished()

    def _start_node(self, index: int) -> None:
        plan = self._plans[index]
        inputs = self._inputs[index]
        if inputs is None:
            inputs = plan.base_inputs.copy()
        else:
            self._inputs[index] = None
        if plan.variadic:
            self._collect_variadic(plan, inputs)

        if plan.standard:
            incoming = inputs["error_in"]
            if incoming.status and not plan.cleanup:
                self._emit(plan, self._skipped_outputs(plan, inputs, incoming))
                return

        context = NodeContext(self, plan)
        failure: Exception | None = None
        coroutine = awaited = None
        try:
            result = plan.run(context, inputs)
            if type(result) is types.CoroutineType:
                coroutine = result
                try:
                    awaited = coroutine.send(None)
                except StopIteration as stop:
                    coroutine, result = None, stop.value
        except Exception as error:  # noqa: BLE001 - NodeError is the node's error out, anything else a bug
            coroutine, failure = None, error
        # Handled outside the except clauses, for the reason given in _Suspended.step.
        if coroutine is not None:
            self._suspend(index, context, inputs, coroutine, awaited)
        elif failure is None:
            self._finish(plan, context, inputs, result)
        elif isinstance(failure, NodeError):
            self._emit_failure(plan, inputs, failure)
        else:
            self._fail_run(plan, failure)

    @staticmethod
    def _collect_variadic(plan: _NodePlan, inputs: dict[str, Any]) -> None:
        for name, size, default in plan.variadic:
            inputs[name] = [inputs.pop(f"{name}_{number}", default) for number in range(1, size + 1)]

    def _suspend(self, index: int, context: NodeContext, inputs: dict[str, Any], coroutine, awaited) -> None:
        suspended = _Suspended(self, index, context, inputs, coroutine)
        self._suspended.add(suspended)
        try:
            suspended.wait_on(awaited)
        except TypeError as error:
            self._suspended_finished(suspended, None, error)
            return
        if self._stopping:
            suspended.cancel()

    def _suspended_finished(self, suspended: _Suspended, outputs: Any, error: BaseException | None) -> None:
        self._suspended.discard(suspended)
        plan = self._plans[suspended.index]
        if isinstance(error, asyncio.CancelledError):
            if plan.abort_code is not None:
                self._emit_failure(plan, suspended.inputs, NodeError(plan.abort_code))
            else:
                self._remaining -= 1
        elif isinstance(error, NodeError):
            self._emit_failure(plan, suspended.inputs, error)
        elif error is not None:
            self._fail_run(plan, error)
        else:
            self._finish(plan, suspended.context, suspended.inputs, outputs)
        self._drain()

    # --- outputs ------------------------------------------------------------------------

    def _finish(self, plan: _NodePlan, context: NodeContext, inputs: dict[str, Any], outputs: Any) -> None:
        if outputs is None:
            outputs = {}
        elif type(outputs) is not dict:
            self._fail_output(plan, f"it returned {type(outputs).__name__} instead of a dict of outputs")
            return
        if not plan.output_names.issuperset(outputs):
            unknown = outputs.keys() - plan.output_names
            self._fail_output(plan, f"it returned unknown output(s) {', '.join(sorted(unknown))}")
            return
        if plan.standard:
            error = inputs["error_in"]
            if context.warning is not None:
                error = merge(error, context.warning)
            outputs["error_out"] = error
        self._emit(plan, outputs)

    def _skipped_outputs(self, plan: _NodePlan, inputs: dict[str, Any], error: ErrorCluster) -> dict[str, Any]:
        outputs = {output: inputs[source] for output, source in plan.passthrough}
        outputs["error_out"] = error
        return outputs

    def _emit_failure(self, plan: _NodePlan, inputs: dict[str, Any], failure: NodeError) -> None:
        """Write default outputs, passthroughs and the merged error, as a failed node does."""
        if "error_out" not in plan.defaults:
            self._fail_run(plan, failure)
            return
        new = ErrorCluster(True, failure.code, error_source(plan.name, self.program.vi_name, failure.message))
        incoming = inputs.get("error_in", ErrorCluster.NO_ERROR)
        if not isinstance(incoming, ErrorCluster):
            incoming = ErrorCluster.NO_ERROR
        outputs = {output: inputs[source] for output, source in plan.passthrough}
        outputs["error_out"] = merge(incoming, new)
        if failure.code != plan.abort_code:
            log.info("%s in %s reported error %d", plan.name, self.program.vi_name, failure.code)
        self._emit(plan, outputs)

    def _emit(self, plan: _NodePlan, outputs: dict[str, Any]) -> None:
        for name, default, check, sinks in plan.outputs:
            value = outputs.get(name, default)
            if check(value) is not None:
                self._fail_output(plan, f"output {name!r}: {check(value)}")
                return
            self._deliver(sinks, value)
        self._remaining -= 1

    def _deliver(self, sinks: list[Sink], value: Any) -> None:
        for target, name, convert in sinks:
            converted = value if convert is None else convert(value)
            if target >= 0:
                inputs = self._inputs[target]
                if inputs is None:
                    inputs = self._inputs[target] = self._plans[target].base_inputs.copy()
                inputs[name] = converted
                self._pending[target] -= 1
                # A stopped run starts only cleanup nodes (Close Handle), which release resources.
                if self._pending[target] == 0 and (not self._stopping or self._plans[target].cleanup):
                    self._ready.append(target)
            else:
                self.indicators[name] = converted
                if self.on_indicator is not None:
                    self._notify(name, converted)

    def _notify(self, indicator_id: str, value: Any) -> None:
        try:
            self.on_indicator(indicator_id, value)
        except Exception:  # noqa: BLE001 - a display problem must not stop the diagram
            log.exception("the indicator callback failed for %r", indicator_id)

    # --- failures and the end -----------------------------------------------------------

    def _fail_output(self, plan: _NodePlan, detail: str) -> None:
        message = f"{describe(NODE_OUTPUT_INVALID)}\n{plan.kind.kind}: {detail}"
        log.error("%s in %s: %s", plan.name, self.program.vi_name, detail)
        self._set_run_error(ErrorCluster(True, NODE_OUTPUT_INVALID, error_source(plan.name, self.program.vi_name, message)))

    def _fail_run(self, plan: _NodePlan, error: BaseException) -> None:
        log.error(
            "%s (%s) in %s raised an unexpected exception", plan.name, plan.kind.kind, self.program.vi_name,
            exc_info=error,
        )
        message = f"{describe(NODE_EXCEPTION)}\n{type(error).__name__}: {error}"
        self._set_run_error(ErrorCluster(True, NODE_EXCEPTION, error_source(plan.name, self.program.vi_name, message)))

    def _set_run_error(self, error: ErrorCluster) -> None:
        if self.error is None:
            self.error = error
        self._stop()

    def _stop(self) -> None:
        self._stopping = True
        cleanup = [index for index in self._ready if self._plans[index].cleanup]
        self._ready.clear()
        self._ready.extend(cleanup)
        for suspended in list(self._suspended):
            suspended.cancel()
        self._check_finished()

    def _check_finished(self) -> None:
        if self._result is not None or self._suspended or self._ready:
            return
        if not self._stopping and self._remaining > 0:
            return  # nodes are still to come: every node emits all outputs, so each gets its inputs
        for callback in self.end_callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - every callback must get its turn
                log.exception("a run-end callback of %s failed", self.program.vi_name)
        self.end_callbacks.clear()
        self._result = RunResult(dict(self.indicators), aborted=self.aborted, error=self.error)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.deliver(self._result)
