"""Load a private copy of one of scipy's installed test modules with functions swapped.

The copy is executed from scipy's file under its own module name, then every reference
to a replaced scipy function is pointed at the fftconv façade: module globals, class
attributes, ``pytest.mark.parametrize`` values (also inside ``pytest.param``), and
attributes reached through a module global (``signal.convolve``, ``ndimage.correlate``)
via a proxy of that module. scipy itself, and scipy's own copy of the test module, are
left untouched.

Each façade is wrapped in a counting wrapper (same name and docstring), so the suite can
check that every swapped test really called the façade.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import sys
import types
from typing import Any, Callable

import pytest

#: Calls of the wrapped façades, by function name (``module.name``).
CALLS: collections.Counter[str] = collections.Counter()


def counting(func: Callable) -> Callable:
    """``func``, counting its calls in :data:`CALLS`."""
    key = f"{func.__module__}.{func.__name__}"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        CALLS[key] += 1
        return func(*args, **kwargs)

    wrapper.facade = func  # type: ignore[attr-defined]
    return wrapper


class ModuleProxy(types.ModuleType):
    """A module whose replaced attributes are the façades; the rest is forwarded."""

    def __init__(self, module: types.ModuleType, replacements: dict[str, Callable]):
        super().__init__(module.__name__, module.__doc__)
        self.__dict__.update(replacements)
        self._wrapped_module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped_module, name)


class Swapper:
    """Replace scipy functions (by identity) with wrapped façades, recursively."""

    def __init__(self, scipy_module: types.ModuleType, facade_module: types.ModuleType,
                 names: tuple[str, ...]):
        self.scipy_module = scipy_module
        self.wrappers = {name: counting(getattr(facade_module, name)) for name in names}
        self.by_original = {id(getattr(scipy_module, n)): w for n, w in self.wrappers.items()}
        self.proxy = ModuleProxy(scipy_module, self.wrappers)
        self.swapped = 0

    def value(self, v: Any) -> Any:
        if id(v) in self.by_original:
            self.swapped += 1
            return self.by_original[id(v)]
        if v is self.scipy_module:
            self.swapped += 1
            return self.proxy
        if isinstance(v, tuple) and hasattr(v, "_replace") and hasattr(v, "values"):  # pytest.param
            return v._replace(values=tuple(self.value(x) for x in v.values))
        if isinstance(v, (list, tuple)):
            return type(v)(self.value(x) for x in v)
        return v

    def marks(self, obj: Any) -> None:
        """Rebuild ``obj``'s parametrize marks with swapped values (its own marks only)."""
        marks = vars(obj).get("pytestmark")
        if not marks:
            return
        new = []
        for mark in marks:
            if mark.name == "parametrize":
                args = list(mark.args)
                if len(args) > 1:  # materialise generators: they are ours, read once
                    args[1] = self.value(list(args[1]))
                mark = pytest.mark.parametrize(*args, **mark.kwargs).mark
            new.append(mark)
        obj.pytestmark = new

    def module(self, mod: types.ModuleType) -> None:
        for name, v in list(vars(mod).items()):
            setattr(mod, name, self.value(v))
            if getattr(v, "__module__", None) != mod.__name__:
                continue  # imported, not the copy's own
            if isinstance(v, type):
                self.marks(v)
                for attr, member in list(vars(v).items()):
                    new = self.value(member)
                    if new is not member:
                        setattr(v, attr, new)
                    if isinstance(member, types.FunctionType):
                        self.marks(member)
            elif isinstance(v, types.FunctionType):
                self.marks(v)


def leftovers(mod: types.ModuleType, originals: list[Callable]) -> list[str]:
    """Where the copy still refers to an original (should be nowhere)."""
    ids = {id(f) for f in originals}
    found = []

    def scan(where: str, v: Any) -> None:
        if id(v) in ids:
            found.append(where)
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v):
                scan(f"{where}[{i}]", x)

    def scan_marks(where: str, obj: Any) -> None:
        for mark in vars(obj).get("pytestmark", []):
            if mark.name == "parametrize":
                scan(f"{where} parametrize", [getattr(p, "values", p) for p in mark.args[1]])

    for name, v in vars(mod).items():
        scan(name, v)
        if getattr(v, "__module__", None) != mod.__name__:
            continue
        if isinstance(v, type):
            scan_marks(name, v)
            for attr, member in vars(v).items():
                scan(f"{name}.{attr}", member)
                if isinstance(member, types.FunctionType):
                    scan_marks(f"{name}.{attr}", member)
        elif isinstance(v, types.FunctionType):
            scan_marks(name, v)
    return found


def load_swapped(test_module: str, scipy_module: types.ModuleType, facade_module: types.ModuleType,
                 names: tuple[str, ...]) -> tuple[types.ModuleType, Swapper]:
    """Execute a fresh copy of scipy's ``test_module`` and swap ``names`` in it."""
    spec = importlib.util.find_spec(test_module)
    assert spec is not None and spec.origin is not None, f"{test_module} is not installed"
    package, leaf = test_module.rsplit(".", 1)
    name = f"{package}._fftconv_swapped_{leaf}"  # relative imports resolve in scipy's package
    copy_spec = importlib.util.spec_from_file_location(name, spec.origin)
    mod = importlib.util.module_from_spec(copy_spec)
    sys.modules[name] = mod
    copy_spec.loader.exec_module(mod)
    swapper = Swapper(scipy_module, facade_module, names)
    swapper.module(mod)
    return mod, swapper
