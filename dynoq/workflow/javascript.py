"""JavaScript expressions (SWITCH, INLINE, DO_WHILE) run in V8 through mini-racer.

The expression is a script: its value is the value of its last statement, as in Conductor
(``$.a > 1 ? 'x' : 'y'``, ``(function () { return $.v + 1; })()``,
``if ($.i < 3) { true; } else { false; }``). ``$`` is a deep copy of the bindings, and the result
comes back as plain JSON values (``undefined`` and functions become None).

Each thread keeps one V8 context, because creating one costs milliseconds and running a short
expression in a warm one costs a fraction of that. Evaluations are kept apart inside it: the
script runs inside a function (its ``var`` and function declarations stay local), the globals and
built-in prototypes present at start-up are frozen, and any global a script adds is deleted once
it returns. A context that was interrupted (time or memory limit) or that kept a global it could
not delete is thrown away and a fresh one takes its place.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dynoq.errors import JavaScriptError

if TYPE_CHECKING:
    from py_mini_racer import MiniRacer

_LOCATION = re.compile(r"^\S*:\d+: ")

# Installed once per context. The script is evaluated by a direct ``eval`` inside a function,
# which is what gives it a statement value and a local scope. The compile-only check prefixes a
# ``throw`` so the script is parsed exactly as it would be run, but none of it executes. The
# entry points hold their helpers in closures and are frozen, so a script cannot swap them.
_PRELUDE = r"""
(function () {
  const global = globalThis;
  const parse = JSON.parse, stringify = JSON.stringify;
  const keys = Reflect.ownKeys, define = Object.defineProperty, freeze = Object.freeze;
  const SENTINEL = {};
  // Built by Function, not as closures, so a script sees globals and `$` but none of this.
  const runScript = new Function("__dynoq_source", "$", "return eval(__dynoq_source);");
  const compileOnly = new Function(
    "__dynoq_source", "__dynoq_sentinel", "eval('throw __dynoq_sentinel;\\n' + __dynoq_source);");
  const baseline = new Set(keys(global));
  const sweep = function () {
    let kept = false;
    for (const key of keys(global)) {
      if (!baseline.has(key) && !delete global[key]) kept = true;
    }
    return kept;
  };
  // Conductor binds `$` to Java maps and lists, so scripts written for it call Java's methods
  // on them: each object and array under `$` gets those as hidden own properties.
  const hasOwn = Object.prototype.hasOwnProperty, ownKeys = Object.keys;
  const isArray = Array.isArray;
  const hide = function (target, name, value) {
    if (!hasOwn.call(target, name)) define(target, name, { value: value, configurable: true });
  };
  const listMethods = {
    get: function (i) { return this[i]; },
    size: function () { return this.length; },
    isEmpty: function () { return this.length === 0; },
    contains: function (x) { return this.indexOf(x) >= 0; },
  };
  const mapMethods = {
    get: function (k) { return hasOwn.call(this, k) ? this[k] : null; },
    size: function () { return ownKeys(this).length; },
    isEmpty: function () { return ownKeys(this).length === 0; },
    containsKey: function (k) { return hasOwn.call(this, k); },
    keySet: function () { return ownKeys(this); },
    values: function () { return ownKeys(this).map((k) => this[k]); },
  };
  const javaLike = function (value) {
    if (isArray(value)) {
      for (const item of value) javaLike(item);
      for (const name of keys(listMethods)) hide(value, name, listMethods[name]);
    } else if (value !== null && typeof value === "object") {
      for (const key of ownKeys(value)) javaLike(value[key]);
      for (const name of keys(mapMethods)) hide(value, name, mapMethods[name]);
      if (!hasOwn.call(value, "length")) {
        define(value, "length", {
          get: function () { return ownKeys(this).length; },
          set: function (v) { define(this, "length", { value: v, writable: true,
                                                       enumerable: true, configurable: true }); },
          configurable: true,
        });
      }
    }
    return value;
  };
  const run = function (source, bindings) {
    let value, kept = false;
    try { value = runScript(source, javaLike(parse(bindings))); } finally { kept = sweep(); }
    const text = stringify(value);
    return (kept ? "!" : " ") + (text === undefined ? "null" : text);
  };
  const check = function (source) {
    try { compileOnly(source, SENTINEL); } catch (e) {
      if (e === SENTINEL) return null;
      return e instanceof Error ? e.name + ": " + e.message : String(e);
    } finally { sweep(); }
    return null;
  };
  define(global, "__dynoq_run", { value: run });
  define(global, "__dynoq_check", { value: check });
  baseline.add("__dynoq_run").add("__dynoq_check");
  const intrinsics = [
    Object.getPrototypeOf(function* () {}),
    Object.getPrototypeOf(async function () {}),
    Object.getPrototypeOf([][Symbol.iterator]()),
    Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
  ];
  for (const key of keys(global)) {
    const value = global[key];
    if (value !== global && value !== null && typeof value === "object") intrinsics.push(value);
    if (typeof value === "function") intrinsics.push(value, value.prototype);
    try { define(global, key, { writable: false, configurable: false }); } catch (e) {}
  }
  for (const value of intrinsics) if (value) freeze(value);
})();
"""


def _v8() -> ModuleType:
    """mini-racer, imported on first use: without the workflow extra the rest of the package
    (definitions, models, the UI's diagrams) still imports."""
    try:
        return importlib.import_module("py_mini_racer")
    except ImportError as exc:
        raise JavaScriptError(
            "JavaScript needs the workflow extra: pip install 'dynoq[workflow]'"
        ) from exc


class JavaScript:
    """Evaluates JavaScript expressions with ``$`` bound, within a time and a memory limit."""

    def __init__(self, timeout: float = 0.5, max_memory_bytes: int = 64 * 2**20) -> None:
        self.timeout = timeout
        self.max_memory_bytes = max_memory_bytes
        self._local = threading.local()
        self._thread: ThreadPoolExecutor | None = None

    def evaluate(self, expression: str, bindings: Mapping[str, Any]) -> Any:
        """The JSON value of the expression's last statement, with ``$`` = a copy of bindings."""
        try:
            payload = json.dumps(dict(bindings), allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise JavaScriptError(f"the bindings are not JSON: {exc}") from exc
        call = f"__dynoq_run({json.dumps(expression)}, {json.dumps(payload)})"
        text = self._run(call)
        if not isinstance(text, str):
            raise JavaScriptError(f"unexpected result from the script runner: {text!r}")
        if text.startswith("!"):
            self._discard()
        return json.loads(text[1:])

    def syntax_problem(self, expression: str) -> str | None:
        """The syntax error in the expression, or None; the expression is compiled, never run."""
        result = self._run(f"__dynoq_check({json.dumps(expression)})")
        return result if isinstance(result, str) else None

    def _run(self, code: str) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._run_here(code)
        # mini-racer refuses time limits on a thread running an event loop: evaluate on a
        # thread of our own and wait (the expression is short; the limit bounds the wait).
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="dynoq-js")
        return self._thread.submit(self._run_here, code).result()

    def _run_here(self, code: str) -> Any:
        context = self._context()
        v8 = _v8()
        try:
            return context.eval(code, timeout_sec=self.timeout, max_memory=self.max_memory_bytes)
        except v8.JSTimeoutException as exc:
            self._discard()
            raise JavaScriptError(f"the script timed out after {self.timeout:g} s") from exc
        except v8.JSOOMException as exc:
            self._discard()
            limit = self.max_memory_bytes / 2**20
            raise JavaScriptError(f"the script reached its memory limit of {limit:g} MiB") from exc
        except v8.JSEvalException as exc:
            raise JavaScriptError(_first_line(str(exc))) from exc

    def _context(self) -> MiniRacer:
        context: MiniRacer | None = getattr(self._local, "context", None)
        if context is None:
            context = _v8().MiniRacer()
            context.eval(_PRELUDE)
            self._local.context = context
        return context

    def _discard(self) -> None:
        context: MiniRacer | None = getattr(self._local, "context", None)
        self._local.context = None
        if context is not None:
            # An interrupted evaluation reports back to the context's event loop a little
            # later; a last round trip lets that report land before the loop is closed.
            with suppress(_v8().JSEvalException):
                context.eval("0", timeout_sec=self.timeout)
            context.close()


_shared = JavaScript()


def syntax_problem(expression: str) -> str | None:
    """The JavaScript syntax error in the expression, or None (compile only, nothing runs)."""
    return _shared.syntax_problem(expression)


def lambda_source(script: str) -> str:
    """A LAMBDA's ``scriptExpression`` is a function body (it ends in ``return``), run as
    Conductor runs it: wrapped in a function that is called."""
    return "function scriptFun(){" + script + "\n} scriptFun();"


def _first_line(message: str) -> str:
    """The error line of a V8 report, without its ``<anonymous>:1:`` location prefix."""
    for line in message.splitlines():
        if line.strip():
            return _LOCATION.sub("", line.strip(), count=1)
    return "JavaScript error"
