using ILGPU;
using ILGPU.Runtime;

namespace Glass.Kernels.Chebyshev;

/// <summary>
/// The Chebyshev heat-kernel kernels of one accelerator, loaded once in the constructor (get it
/// through <c>ComputeDevice.GetKernels(acc =&gt; new HeatKernelOps(acc))</c>). Typed calls on
/// device views; everything is queued on the accelerator's default stream and nothing is read
/// back to the host, so the autodiff tape can call these on its own buffers. Because
/// <c>exp(−τL)</c> is symmetric, its backward pass (the vector–Jacobian product w.r.t. V) is
/// <see cref="Apply"/> again.
/// </summary>
internal sealed class HeatKernelOps
{
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _spmm;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float> _first;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _step;

    /// <summary>Compiles and loads the kernels on <paramref name="accelerator"/>.</summary>
    public HeatKernelOps(Accelerator accelerator)
    {
        Accelerator = accelerator;
        _spmm = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(HeatKernelKernels.ShiftedSpmm);
        _first = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float>(HeatKernelKernels.FirstStep);
        _step = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(HeatKernelKernels.Step);
    }

    /// <summary>The accelerator the kernels are loaded on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary><c>y = (L − shift·I)·x</c>; x and y are <c>n × p</c> row-major (length n·p), distinct.</summary>
    public void ShiftedSpmm(DeviceCsr l, ArrayView<float> x, ArrayView<float> y, int p, float shift)
    {
        int np = CheckBlock(l, x, p, nameof(x));
        CheckBlock(l, y, p, nameof(y));
        _spmm(np, l.RowPtr, l.ColIdx, l.Values, x, y, p, shift);
    }

    /// <summary>
    /// <c>y = Σ_{k=0..q} c_k·T_k(L − I)·v</c> (q = coefficients.Length − 1 ≥ 1), the heat kernel
    /// when <paramref name="coefficients"/> come from <see cref="HeatKernel.Coefficients"/>.
    /// <paramref name="v"/> is not modified; <paramref name="scratch0"/> and
    /// <paramref name="scratch1"/> (n·p each) hold the recurrence. All five views distinct.
    /// q kernel launches, no allocation, no host read-back; the caller synchronises.
    /// </summary>
    public void Apply(DeviceCsr l, ArrayView<float> v, ArrayView<float> y, ArrayView<float> scratch0, ArrayView<float> scratch1,
        int p, ReadOnlySpan<double> coefficients)
    {
        if (coefficients.Length < 2)
            throw new ArgumentException($"coefficients has length {coefficients.Length}; expected at least 2 (degree ≥ 1).", nameof(coefficients));
        int np = CheckBlock(l, v, p, nameof(v));
        CheckBlock(l, y, p, nameof(y));
        CheckBlock(l, scratch0, p, nameof(scratch0));
        CheckBlock(l, scratch1, p, nameof(scratch1));

        ArrayView<float> tPrev = scratch0, tCur = scratch1;
        v.SubView(0, np).CopyTo(tPrev.SubView(0, np));
        _first(np, l.RowPtr, l.ColIdx, l.Values, tPrev, tCur, y, p, (float)coefficients[0], (float)coefficients[1]);
        for (int k = 2; k < coefficients.Length; k++)
        {
            _step(np, l.RowPtr, l.ColIdx, l.Values, tCur, tPrev, y, p, (float)coefficients[k]);
            (tCur, tPrev) = (tPrev, tCur);
        }
    }

    private static int CheckBlock(DeviceCsr l, ArrayView<float> view, int p, string name)
    {
        if (p <= 0) throw new ArgumentException($"p = {p}; expected an integer > 0.", nameof(p));
        long np = (long)l.Rows * p;
        if (np > int.MaxValue)
            throw new ArgumentException($"n·p = {np}; expected at most {int.MaxValue} entries per block.", nameof(p));
        if (view.Length < np)
            throw new ArgumentException($"{name} has length {view.Length}; expected at least n·p = {np}.", name);
        return (int)np;
    }
}
