"""Strategy names have one source, the registry: the Method literal, the documented
choices and the command line follow it, and registering a name twice is refused."""

import typing

import pytest

import fftconv
from fftconv import _typing
from fftconv._cli import build_parser
from fftconv.strategies import names, register, registry
from reference import METHODS


def test_method_literal_lists_every_registered_strategy():
    assert typing.get_args(_typing.Method) == ("auto", *names())


def test_tests_are_parametrised_over_the_registry():
    assert METHODS == (*registry(), "auto")


@pytest.mark.parametrize("function", [fftconv.convolve, fftconv.correlate,
                                      fftconv.plan_convolve, fftconv.plan_correlate,
                                      fftconv.explain])
def test_documented_method_choices_are_the_registry(function):
    choices = "{" + ", ".join(repr(m) for m in ("auto", *names())) + "}"
    assert f"method : {choices}, optional" in function.__doc__


@pytest.mark.parametrize("command", ["filter", "plan"])
def test_command_line_method_choices_are_the_registry(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "==SUPPRESS==" or a.choices)
    action = next(a for a in sub.choices[command]._actions if a.dest == "method")
    assert tuple(action.choices) == ("auto", *names())


def test_an_unknown_method_lists_the_registry():
    with pytest.raises(ValueError, match="method='nope' is invalid; expected one of "
                       + ", ".join(repr(m) for m in sorted(("auto", *names())))):
        fftconv.convolve([1.0, 2.0], [1.0], method="nope")


def test_register_refuses_a_duplicate_name():
    class Impostor:
        name = "direct"

    with pytest.raises(ValueError, match="a strategy named 'direct' is already registered"):
        register(Impostor())  # type: ignore[arg-type]
    assert type(registry()["direct"]).__name__ == "Direct"


@pytest.mark.parametrize("name", ["auto", "", "two words", 3])
def test_register_refuses_an_invalid_name(name):
    class Odd:
        pass

    Odd.name = name
    with pytest.raises(ValueError, match="strategy name .* is invalid"):
        register(Odd())  # type: ignore[arg-type]
    assert name not in registry()


def test_registering_the_same_strategy_again_is_harmless():
    direct = registry()["direct"]
    assert register(direct) is direct
    assert list(registry()) == list(names())
