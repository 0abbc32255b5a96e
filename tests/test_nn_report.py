"""fftconv.nn plans explain themselves like core plans: report() and explain()."""

import numpy as np
import pytest

from fftconv import nn
from fftconv.nn import _plan as nn_plan
from fftconv.nn._plan import get_plan
from fftconv.nn._problem import make_nn_problem


def plan_for(x, w, method="auto", **options):
    call = make_nn_problem(2, x, w, None, stride=options.get("stride", 1),
                           padding=options.get("padding", 0), dilation=1, groups=1,
                           data_format="channels_first", padding_mode="zeros", method=method)
    return get_plan(call.problem, np.ascontiguousarray(call.w), call.method, 2)


@pytest.mark.parametrize("method", ["auto", "direct", "fft"])
def test_report_lists_both_strategies_and_marks_the_chosen(method):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 40, 40)), rng.standard_normal((4, 3, 9, 9))
    plan = plan_for(x, w, method, stride=2)
    report = plan.report()
    assert [c.name for c in report.candidates] == ["direct", "fft"]
    assert [c.name for c in report.candidates if c.chosen] == [plan.method] == [report.method]
    assert report.requested == method and report.direct == plan.direct
    loser = next(c for c in report.candidates if not c.chosen)
    assert loser.rejected == ("higher estimate" if method == "auto" else f"method={method!r}")
    text = str(report)
    assert text.startswith("fftconv.nn plan: conv2d N=2 C=3 O=4")
    assert f"method={method!r} -> {plan.method!r}" in text
    for c in report.candidates:
        assert c.estimate is not None and c.estimate.seconds == pytest.approx(
            plan.estimates[c.name])


def test_report_says_why_a_nonfinite_weight_has_no_fft():
    w = np.ones((2, 1, 5, 5))
    w[0, 0, 2, 2] = np.nan
    report = plan_for(np.ones((1, 1, 30, 30)), w).report()
    fft = next(c for c in report.candidates if c.name == "fft")
    assert report.method == "direct"
    assert fft.rejected.startswith("the weight has non-finite values")
    assert fft.rejected in str(report)


@pytest.mark.parametrize("shapes, options", [
    (((8, 16, 64, 64), (16, 16, 3, 3)), {"padding": "same"}),
    (((1, 3, 300, 300), (8, 3, 31, 31)), {}),
    (((2, 4, 50, 60), (6, 2, 5, 4)), {"stride": 2, "groups": 2}),
    (((3, 40), (5, 3, 7)), {"dilation": 2}),
])
def test_explain_matches_the_plan_and_builds_nothing(shapes, options, monkeypatch):
    xs, ws = shapes
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    conv = {3: nn.conv1d, 4: nn.conv2d}[len(ws)]
    conv(x, w, **options)  # the plan the call used is remembered
    d = len(ws) - 2
    call = make_nn_problem(d, x, w, None, stride=options.get("stride", 1),
                           padding=options.get("padding", 0),
                           dilation=options.get("dilation", 1), groups=options.get("groups", 1),
                           data_format="channels_first", padding_mode="zeros", method="auto")
    plan = get_plan(call.problem, np.ascontiguousarray(call.w), "auto", 2)
    for name in ("build_fft", "build_direct"):
        monkeypatch.setattr(nn_plan, name, lambda *a, **k: pytest.fail("explain built a plan"))
    report = nn.explain(xs, ws, **options)
    assert report.method == plan.method
    assert report.problem == plan.problem
    assert str(report).splitlines()[2:] == str(plan.report()).splitlines()[2:]


@pytest.mark.parametrize("weight_shape", [(3, 3), (1, 1, 1, 1, 1, 1)])
def test_explain_names_a_bad_weight_shape(weight_shape):
    with pytest.raises(ValueError, match=r"weight_shape=.* is invalid; expected \(O, C/groups"):
        nn.explain((1, 1, 8, 8), weight_shape)


def test_explain_validates_like_a_call():
    with pytest.raises(ValueError, match="padding_mode='mirror' is invalid"):
        nn.explain((1, 1, 8, 8), (1, 1, 3, 3), padding_mode="mirror")
    with pytest.raises(ValueError, match="dtype='nope' is invalid"):
        nn.explain((1, 1, 8, 8), (1, 1, 3, 3), dtype="nope")
