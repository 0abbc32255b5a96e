"""Explicit SIMD for the small-kernel direct sum: one numba intrinsic emitting vector IR.

numba vectorises loops through LLVM's loop vectoriser, which gives up on a stencil over
several output rows: each row is a separate pointer, and proving they do not overlap
needs more run-time checks than it allows. :func:`stencil` instead writes the vector code
itself: it loads each input row once per vector of columns and feeds every output row of
the block from it, with full-width vectors whose width is part of the call's type. So the
choice of 256- or 512-bit vectors is made per call, by fftconv, and touches no global
numba or LLVM setting.
"""

from __future__ import annotations

from typing import Any

from .._machine.jit import import_numba

import_numba()  # first, so numba comes in without scipy.linalg (see _machine/jit.py)

from llvmlite import ir  # noqa: E402
from numba import types  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

__all__ = ["SPARSE", "block", "lanes", "sparse_stencil", "stencil", "tag"]

#: The symmetry code of :func:`tag` that marks a call of :func:`sparse_stencil`.
SPARSE = 3


def tag(rows: int, bits: int, kh: int, kw: int, sym: int = 0,
        kd: int = 1) -> tuple[tuple[int, ...], ...]:
    """The compile-time shape of a :func:`stencil` call, carried by the type of a tuple.

    ``rows`` output rows per block, ``bits`` per vector, a ``kh`` x ``kw`` kernel on each
    of ``kd`` planes; ``sym`` is 1 for a kernel symmetric along its rows (``w[a, c] ==
    w[a, kw-1-c]``), 2 for antisymmetric (``w[a, c] == -w[a, kw-1-c]``, centre column
    zero), 0 otherwise; :data:`SPARSE` for :func:`sparse_stencil` (then ``kw`` is unused,
    and ``kh`` is 2 when every tap lies on the kernel's first row, else 1).
    """
    return ((0,) * rows, (0,) * (bits // 64), (0,) * kh, (0,) * kw, (0,) * (sym + 1),
            (0,) * kd)


def _parts(shape: Any) -> tuple[Any, ...]:
    """The member types of a :func:`tag`'s numba type."""
    return tuple(getattr(shape, "types", ()))


def lanes(shape: Any, dtype: Any) -> int:
    """Elements of numba type ``dtype`` per vector of the :func:`tag` typed ``shape``."""
    return max(_parts(shape)[1].count * 64 // dtype.bitwidth, 1)


def _fma_name(dt: Any, width: int) -> str:
    base = "f32" if dt.bitwidth == 32 else "f64"
    return f"llvm.fma.{base}" if width == 1 else f"llvm.fma.v{width}{base}"


def _convert(builder: ir.IRBuilder, v: ir.Value, src: Any, dst: Any, vt: ir.Type) -> ir.Value:
    """``v`` of numba type ``src`` as ``dst`` (vector or scalar type ``vt``): exact here."""
    if src == dst:
        return v
    if isinstance(dst, types.Float):
        if isinstance(src, types.Float):
            return builder.fpext(v, vt)
        return builder.sitofp(v, vt) if src.signed else builder.uitofp(v, vt)
    if isinstance(src, types.Float):
        return builder.fptosi(v, vt) if dst.signed else builder.fptoui(v, vt)
    if dst.bitwidth > src.bitwidth:
        return builder.sext(v, vt) if src.signed else builder.zext(v, vt)
    return v


def _emit(context: Any, builder: ir.IRBuilder, sig: Any, args: Any) -> Any:
    xaddr_t, oaddr_t, w_t, _, tag_t, xrows_t, out_t = sig.args
    rows, _, kh, kw, symt, kd = (t.count for t in tag_t.types)
    sym = symt - 1
    dt = w_t.dtype  # the arithmetic's type; inputs and outputs are converted exactly
    xdt, odt = xrows_t.dtype, out_t.dtype
    isfloat = isinstance(dt, types.Float)
    elt = context.get_value_type(dt)
    xelt = context.get_value_type(xdt)
    oelt = context.get_value_type(odt)
    intp = context.get_value_type(types.intp)
    i32 = ir.IntType(32)
    nlanes = lanes(tag_t, dt)
    xarr = context.make_array(xaddr_t)(context, builder, args[0])
    oarr = context.make_array(oaddr_t)(context, builder, args[1])
    warr = context.make_array(w_t)(context, builder, args[2])
    n = args[3]
    ptr = ir.PointerType()
    span = rows + kh - 1  # input rows per plane
    xp = [builder.inttoptr(builder.load(cgutils.gep(builder, xarr.data, i)), ptr)
          for i in range(kd * span)]
    op = [builder.inttoptr(builder.load(cgutils.gep(builder, oarr.data, r)), ptr)
          for r in range(rows)]
    half = (kw + 1) // 2 if sym else kw  # columns with their own weight
    ws = [[builder.load(cgutils.gep(builder, warr.data, a * kw + c)) for c in range(half)]
          for a in range(kd * kh)]

    def body(j: ir.Value, width: int) -> None:
        vt = elt if width == 1 else ir.VectorType(elt, width)
        splat_mask = ir.Constant(ir.VectorType(i32, width), [0] * width) if width > 1 else None
        cache: dict[tuple[int, int], ir.Value] = {}

        def weight(a: int, c: int) -> ir.Value:
            if (a, c) not in cache:
                s = ws[a][c]
                if width > 1:
                    v = builder.insert_element(ir.Constant(vt, ir.Undefined), s, i32(0))
                    s = builder.shuffle_vector(v, ir.Constant(vt, ir.Undefined), splat_mask)
                cache[a, c] = s
            return cache[a, c]

        fma = (cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt, vt, vt]),
                                              _fma_name(dt, width)) if isfloat else None)

        xvt = xelt if width == 1 else ir.VectorType(xelt, width)
        ovt = oelt if width == 1 else ir.VectorType(oelt, width)

        def load(i: int, c: int) -> ir.Value:
            p = builder.gep(xp[i], [builder.add(j, ir.Constant(intp, c))], source_etype=xelt)
            v = builder.load(p, align=xdt.bitwidth // 8, typ=xvt)
            return _convert(builder, v, xdt, dt, vt)

        acc: list[ir.Value | None] = [None] * rows
        for i in range(kd * span):  # each input row once, for every output row it feeds
            d, ii = divmod(i, span)  # plane, row within the plane's rows
            for c in range(half):
                v = load(i, c)
                if sym and c != kw - 1 - c:  # the mirrored column shares the weight
                    u = load(i, kw - 1 - c)
                    v = ((builder.fadd(v, u) if sym == 1 else builder.fsub(v, u)) if isfloat
                         else (builder.add(v, u) if sym == 1 else builder.sub(v, u)))
                elif sym == 2:  # antisymmetric: the centre weight is zero
                    continue
                for r in range(rows):
                    a = ii - r
                    if not 0 <= a < kh:
                        continue
                    wv = weight(d * kh + a, c)
                    prev = acc[r]
                    if prev is None:
                        acc[r] = builder.fmul(wv, v) if isfloat else builder.mul(wv, v)
                    elif isfloat:
                        acc[r] = builder.call(fma, [wv, v, prev])
                    else:
                        acc[r] = builder.add(prev, builder.mul(wv, v))
        for r in range(rows):
            value = acc[r]
            if value is None:  # every weight was skipped (antisymmetric kw == 1)
                value = ir.Constant(vt, None)
            value = _convert(builder, value, dt, odt, ovt)
            builder.store(value, builder.gep(op[r], [j], source_etype=oelt),
                          align=odt.bitwidth // 8)

    _vectors(builder, n, nlanes, intp, body)
    return context.get_dummy_value()


def _vectors(builder: ir.IRBuilder, n: ir.Value, nlanes: int, intp: ir.Type,
             body: Any, done: ir.Value | None = None) -> None:
    """``body(j, nlanes)`` over the columns ``done .. n-1`` in full vectors, then, when
    columns are left, once more on the last full vector ``n - nlanes .. n-1`` (those
    outputs are a function of the inputs only, so the columns it shares with
    the vector before are written twice with the same values); only when the row is
    shorter than a vector, ``body(j, 1)`` on every column.

    The overlapping vector replaces up to ``nlanes - 1`` single columns: at 256² float32
    with 16 lanes the interior rows were 15 vectors and 14 single columns. One copy of
    ``body`` serves both (the start of the last vector is clamped), which keeps the
    compiled code, and the compile time, of a 9 x 9 kernel from growing.
    """
    zero = ir.Constant(intp, 0)
    done = zero if done is None else done
    width = ir.Constant(intp, nlanes)
    if nlanes > 1:
        last = builder.sub(n, width)
        rest = builder.sub(n, done)
        count = builder.sdiv(builder.add(rest, ir.Constant(intp, nlanes - 1)), width)
        count = builder.select(builder.icmp_signed("<", last, zero), zero, count)
        with cgutils.for_range(builder, count) as loop:
            j = builder.add(done, builder.mul(loop.index, width))
            body(builder.select(builder.icmp_signed(">", j, last), last, j), nlanes)
        singles = builder.select(builder.icmp_signed("<", last, zero), n, zero)
    else:
        singles = builder.sub(n, done)
    with cgutils.for_range(builder, singles) as loop:
        body(builder.add(done, loop.index), 1)


@intrinsic
def stencil(typingctx, xaddr, oaddr, w, n, shape, xrows, out):
    """``out_r[j] = sum_{d, a, c} w[d, a, c] * x_{d, r + a}[j + c]`` for ``j < n``, ``r < rows``.

    ``xaddr`` holds the byte addresses of the ``rows + kh - 1`` input rows of each of the
    ``kd`` planes, plane after plane (each row readable for ``n + kw - 1`` elements),
    ``oaddr`` those of the ``rows`` output rows, ``w`` the C-contiguous ``(kd * kh, kw)``
    weights, ``shape`` a :func:`tag`; ``xrows`` and ``out`` give
    only the element types of the rows (converted to ``w``'s type, and the sums to
    ``out``'s, which must be exact: the caller proves it). Full vectors, the last one
    overlapping the one before when ``n`` is not a multiple of the lanes; a row shorter
    than one vector one column at a time with the same code.
    """
    if not isinstance(shape, types.BaseTuple) or len(_parts(shape)) != 6:
        return None
    return types.void(xaddr, oaddr, w, n, shape, xrows, out), _emit


def _emit_sparse(context: Any, builder: ir.IRBuilder, sig: Any, args: Any) -> Any:
    tw_t, _, tag_t, xrows_t, out_t = sig.args[4:]
    rows = tag_t.types[0].count
    one_row = tag_t.types[2].count == 2  # every tap on row 0: row pointers fixed
    dt, xdt, odt = tw_t.dtype, xrows_t.dtype, out_t.dtype
    isfloat = isinstance(dt, types.Float)
    elt, xelt, oelt = (context.get_value_type(t) for t in (dt, xdt, odt))
    intp = context.get_value_type(types.intp)
    i32 = ir.IntType(32)
    nlanes = lanes(tag_t, dt)
    arrs = [context.make_array(t)(context, builder, v)
            for t, v in zip(sig.args[:5], args[:5])]
    xarr, oarr, trow, tcol, tw = arrs
    ntaps = builder.extract_value(tw.shape, 0)
    n = args[5]
    ptr = ir.PointerType()
    op = [builder.inttoptr(builder.load(cgutils.gep(builder, oarr.data, r)), ptr)
          for r in range(rows)]
    fixed = ([builder.inttoptr(builder.load(cgutils.gep(builder, xarr.data, r)), ptr)
              for r in range(rows)] if one_row else None)

    def body(j: ir.Value, width: int, unroll: int) -> None:
        """Columns ``j .. j + width * unroll - 1`` of every output row of the block."""
        vt = elt if width == 1 else ir.VectorType(elt, width)
        xvt = xelt if width == 1 else ir.VectorType(xelt, width)
        ovt = oelt if width == 1 else ir.VectorType(oelt, width)
        fma = (cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt, vt, vt]),
                                              _fma_name(dt, width)) if isfloat else None)
        accs = [[cgutils.alloca_once(builder, vt) for _ in range(unroll)] for _ in range(rows)]
        for row_accs in accs:
            for acc in row_accs:
                builder.store(ir.Constant(vt, None), acc)
        with cgutils.for_range(builder, ntaps) as loop:
            t = loop.index
            c = builder.load(cgutils.gep(builder, tcol.data, t))
            w = builder.load(cgutils.gep(builder, tw.data, t))
            if width > 1:
                v = builder.insert_element(ir.Constant(vt, ir.Undefined), w, i32(0))
                w = builder.shuffle_vector(v, ir.Constant(vt, ir.Undefined),
                                           ir.Constant(ir.VectorType(i32, width), [0] * width))
            jc = builder.add(j, c)
            a = None if one_row else builder.load(cgutils.gep(builder, trow.data, t))
            for r in range(rows):
                if fixed is not None:
                    base = fixed[r]
                else:
                    row = builder.load(cgutils.gep(builder, xarr.data,
                                                   builder.add(a, ir.Constant(intp, r))))
                    base = builder.inttoptr(row, ptr)
                for u in range(unroll):
                    p = builder.gep(base, [builder.add(jc, ir.Constant(intp, u * width))],
                                    source_etype=xelt)
                    x = _convert(builder, builder.load(p, align=xdt.bitwidth // 8, typ=xvt),
                                 xdt, dt, vt)
                    prev = builder.load(accs[r][u])
                    builder.store(builder.call(fma, [w, x, prev]) if isfloat
                                  else builder.add(prev, builder.mul(w, x)), accs[r][u])
        for r in range(rows):
            for u in range(unroll):
                value = _convert(builder, builder.load(accs[r][u]), dt, odt, ovt)
                q = builder.add(j, ir.Constant(intp, u * width))
                builder.store(value, builder.gep(op[r], [q], source_etype=oelt),
                              align=odt.bitwidth // 8)

    step = ir.Constant(intp, 2 * nlanes)  # pairs of vectors, then as the dense sum
    count = builder.sdiv(n, step)
    with cgutils.for_range(builder, count) as loop:
        body(builder.mul(loop.index, step), nlanes, 2)
    _vectors(builder, n, nlanes, intp, lambda j, width: body(j, width, 1),
             builder.mul(count, step))
    return context.get_dummy_value()


@intrinsic
def sparse_stencil(typingctx, xaddr, oaddr, trow, tcol, tw, n, shape, xrows,
                   out):
    """``out_r[j] = sum_t tw[t] * x_{r + trow[t]}[j + tcol[t]]`` for ``j < n``, ``r < rows``.

    Any number of taps, in a loop inside each vector of columns: the ``rows`` sums stay in
    registers across the taps, so a long line kernel (a motion blur) costs one load and
    one multiply-add per non-zero tap and output vector. Arguments as :func:`stencil`.
    """
    if not isinstance(shape, types.BaseTuple) or len(_parts(shape)) != 6:
        return None
    return types.void(xaddr, oaddr, trow, tcol, tw, n, shape, xrows, out), _emit_sparse


@intrinsic
def block(typingctx, xaddr, oaddr, w, trow, tcol, tw, n, shape, xrows, out):
    """:func:`stencil` or, for a :data:`SPARSE` ``shape``, :func:`sparse_stencil`.

    The choice is made from the type of ``shape`` while compiling, so a caller emits
    only the one it uses (both are large: compile time is most of a first call).
    """
    if not isinstance(shape, types.BaseTuple) or len(_parts(shape)) != 6:
        return None
    sig = types.void(xaddr, oaddr, w, trow, tcol, tw, n, shape, xrows, out)
    sparse = _parts(shape)[4].count == SPARSE + 1

    def codegen(context: Any, builder: ir.IRBuilder, sig: Any, args: Any) -> Any:
        a = sig.args
        if sparse:
            sub = types.void(a[0], a[1], a[3], a[4], a[5], a[6], a[7], a[8], a[9])
            return _emit_sparse(context, builder, sub, [args[i] for i in (0, 1, 3, 4, 5, 6, 7, 8, 9)])
        sub = types.void(a[0], a[1], a[2], a[6], a[7], a[8], a[9])
        return _emit(context, builder, sub, [args[i] for i in (0, 1, 2, 6, 7, 8, 9)])

    return sig, codegen
