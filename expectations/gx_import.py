"""Importing Great Expectations without the parts of it ACORN never runs.

GX imports every expectation class it ships when it is imported. One of them,
`expect_column_kl_divergence_to_be_less_than`, imports `scipy.stats` and `altair` (charts for its renderer) at
module level: about a third of GX's import time (0.8 to 1.2 CPU s of about 3 on this machine), in every `acorn`
process that runs a check. No ACORN suite uses that expectation, nor any other user of those two modules.

`great_expectations()` imports GX with those two modules registered as deferred modules (`_DeferredModule`, the
standard library's `LazyLoader` idea): the name is bound at once and the module's code runs on its first
attribute access. Nothing changes for code that uses them (they load then, whole); ACORN's checks never touch
them, so they are never loaded. A module already imported (a test, a notebook) is left as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
from types import ModuleType

# Imported by GX at module level and used only by expectations ACORN does not run (see above).
DEFERRED_MODULES = ("scipy.stats", "altair")

_lock = threading.RLock()  # a deferred module's code may import another one
_deferred: list[str] = []
_prepared: list[bool] = []


class _DeferredModule(ModuleType):
    """A module whose code has not run yet: its import attributes (`__spec__`, `__path__`, ...) are set, so
    `import x` and `from parent import x` bind it without running it; the first other attribute runs it, in
    place, whole (as `importlib.util.LazyLoader` does; that one also runs the module when the import system
    reads `__spec__`, which `import altair` does)."""

    def __getattr__(self, attr: str) -> object:
        with _lock:
            if type(self) is _DeferredModule:
                spec = self.__spec__
                assert spec is not None and spec.loader is not None
                self.__class__ = ModuleType  # type: ignore[assignment]  # a plain module from here on
                try:
                    spec.loader.exec_module(self)
                except BaseException:
                    sys.modules.pop(
                        spec.name, None
                    )  # as a failed import leaves it: absent, tried again next time
                    raise
        return getattr(self, attr)


def _defer(name: str) -> None:
    """Register `name` as a deferred module: importing it binds it; its first attribute access executes it."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)  # imports the parent package (scipy: small), not the module
    if spec is None or spec.loader is None:
        return  # not installed: GX's own import reports it, as before
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _DeferredModule
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    _deferred.append(name)


def great_expectations() -> ModuleType:
    """The `great_expectations` module, imported (once per process) with `DEFERRED_MODULES` deferred."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with _lock:
        if not _prepared:
            _prepared.append(True)
            if "great_expectations" not in sys.modules:
                for name in DEFERRED_MODULES:
                    _defer(name)
    # The import system, not a look-up in sys.modules: a thread importing GX meanwhile holds the
    # module's lock, and this waits for it rather than use a half-initialised module.
    return importlib.import_module("great_expectations")


def deferred_modules() -> list[str]:
    """The modules this process registered as lazy (for tests and diagnostics)."""
    return list(_deferred)
