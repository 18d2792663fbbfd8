using Glass.Kernels.Device.LowLevel;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Glass.Autodiff.Device;

/// <summary>Elementwise functions of the tape's unary ops (codes shared by the kernels and the tape).</summary>
internal enum UnaryCode
{
    /// <summary>c·x (parameter c).</summary>
    Scale,
    /// <summary>eˣ.</summary>
    Exp,
    /// <summary>log x.</summary>
    Log,
    /// <summary>√x.</summary>
    Sqrt,
    /// <summary>xᵖ (parameter p).</summary>
    Pow,
    /// <summary>|x|.</summary>
    Abs,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>x if x &gt; 0 else slope·x (parameter slope).</summary>
    LeakyRelu,
    /// <summary>tanh x.</summary>
    Tanh,
    /// <summary>log(1 + eˣ).</summary>
    Softplus,
    /// <summary>GELU (tanh approximation).</summary>
    Gelu,
    /// <summary>arccos(clamp(x, −1 + 1e-12, 1 − 1e-12)) (float: the clamp is ±(1 − 1e-7)).</summary>
    AcosClamped,
}

/// <summary>Elementwise functions of the tape's binary ops.</summary>
internal enum BinaryCode
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a − b.</summary>
    Sub,
    /// <summary>a ⊙ b.</summary>
    Mul,
    /// <summary>a ⊘ b.</summary>
    Div,
}

/// <summary>Shape of a broadcast binary op: output rows×cols; a is aRows×aCols, b is bRows×bCols (each dimension equal or 1).</summary>
internal readonly struct BroadcastShape
{
    /// <summary>Output rows×cols, a aRows×aCols, b bRows×bCols.</summary>
    public BroadcastShape(int rows, int cols, int aRows, int aCols, int bRows, int bCols)
    {
        Rows = rows; Cols = cols; ARows = aRows; ACols = aCols; BRows = bRows; BCols = bCols;
    }

    /// <summary>Output rows.</summary>
    public readonly int Rows;
    /// <summary>Output columns.</summary>
    public readonly int Cols;
    /// <summary>Rows of a.</summary>
    public readonly int ARows;
    /// <summary>Columns of a.</summary>
    public readonly int ACols;
    /// <summary>Rows of b.</summary>
    public readonly int BRows;
    /// <summary>Columns of b.</summary>
    public readonly int BCols;
}

/// <summary>
/// ILGPU kernels (float32) for the autodiff tape's ops on an accelerator: elementwise unary/binary
/// with broadcasting (forward and backward), reductions per axis, row-wise log-sum-exp, row norms,
/// transpose, CSR·dense and the pull-back of pairwise squared distances. The managed CPU twins are
/// the tape's own CPU path (<c>Glass.Autodiff.Ops</c>, double), the reference these are tested against.
/// Internal to the tape (launched by <c>Ops.DeviceOps</c>); GEMM and the distance kernels it also launches are the
/// public low-level sets <see cref="MatMulOps"/> and <see cref="PointCloudOps"/> of Glass.Kernels.
/// Every kernel that writes a gradient takes <c>accumulate</c> (0: overwrite, 1: add).
/// </summary>
internal static class TensorKernels
{
    private const float AcosLim = 1f - 1e-7f;
    private const float GeluC = 0.7978845608028654f;

    private static float Forward(int code, float x, float p)
    {
        switch (code)
        {
            case (int)UnaryCode.Scale: return p * x;
            case (int)UnaryCode.Exp: return XMath.Exp(x);
            case (int)UnaryCode.Log: return XMath.Log(x);
            case (int)UnaryCode.Sqrt: return XMath.Sqrt(x);
            case (int)UnaryCode.Pow: return XMath.Pow(x, p);
            case (int)UnaryCode.Abs: return XMath.Abs(x);
            case (int)UnaryCode.Relu: return x > 0f ? x : 0f;
            case (int)UnaryCode.LeakyRelu: return x > 0f ? x : p * x;
            case (int)UnaryCode.Tanh: return XMath.Tanh(x);
            case (int)UnaryCode.Softplus: return XMath.Max(x, 0f) + XMath.Log(1f + XMath.Exp(-XMath.Abs(x)));
            case (int)UnaryCode.Gelu: return 0.5f * x * (1f + XMath.Tanh(GeluC * (x + 0.044715f * x * x * x)));
            default: return KernelMath.Acos(XMath.Clamp(x, -AcosLim, AcosLim));
        }
    }

    private static float Derivative(int code, float x, float y, float p)
    {
        switch (code)
        {
            case (int)UnaryCode.Scale: return p;
            case (int)UnaryCode.Exp: return y;
            case (int)UnaryCode.Log: return 1f / x;
            case (int)UnaryCode.Sqrt: return 0.5f / y;
            case (int)UnaryCode.Pow: return p * XMath.Pow(x, p - 1f);
            case (int)UnaryCode.Abs: return x > 0f ? 1f : x < 0f ? -1f : 0f;
            case (int)UnaryCode.Relu: return x > 0f ? 1f : 0f;
            case (int)UnaryCode.LeakyRelu: return x > 0f ? 1f : p;
            case (int)UnaryCode.Tanh: return 1f - y * y;
            case (int)UnaryCode.Softplus: return 1f / (1f + XMath.Exp(-x));
            case (int)UnaryCode.Gelu:
                {
                    float u = GeluC * (x + 0.044715f * x * x * x), t = XMath.Tanh(u);
                    return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * GeluC * (1f + 3f * 0.044715f * x * x);
                }
            default: return XMath.Abs(x) >= AcosLim ? 0f : -1f / XMath.Sqrt(1f - x * x);
        }
    }

    private static float Combine(int code, float a, float b) =>
        code == (int)BinaryCode.Add ? a + b : code == (int)BinaryCode.Sub ? a - b : code == (int)BinaryCode.Mul ? a * b : a / b;

    // y (len): y_k = f(x_k).
    internal static void UnaryForward(Index1D k, ArrayView<float> x, ArrayView<float> y, int code, float p) =>
        y[k] = Forward(code, x[k], p);

    // ga (len): ga_k (+)= g_k · f'(x_k) (y_k = f(x_k)).
    internal static void UnaryBackward(Index1D k, ArrayView<float> x, ArrayView<float> y, ArrayView<float> g, ArrayView<float> ga,
        int code, float p, int accumulate)
    {
        float d = g[k] * Derivative(code, x[k], y[k], p);
        ga[k] = accumulate != 0 ? ga[k] + d : d;
    }

    // y (rows×cols): y_ij = a_(i|0)(j|0) ∘ b_(i|0)(j|0).
    internal static void BinaryForward(Index1D k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BroadcastShape s, int code)
    {
        int i = k / s.Cols, j = k - i * s.Cols;
        y[k] = Combine(code, a[(s.ARows == 1 ? 0 : i) * s.ACols + (s.ACols == 1 ? 0 : j)], b[(s.BRows == 1 ? 0 : i) * s.BCols + (s.BCols == 1 ? 0 : j)]);
    }

    // da, db (rows×cols, full size before reduction): ∂(a ∘ b)/∂a · g and ∂/∂b · g per output entry.
    internal static void BinaryBackward(Index1D k, ArrayView<float> a, ArrayView<float> b, ArrayView<float> g,
        ArrayView<float> da, ArrayView<float> db, BroadcastShape s, int code)
    {
        int i = k / s.Cols, j = k - i * s.Cols;
        float av = a[(s.ARows == 1 ? 0 : i) * s.ACols + (s.ACols == 1 ? 0 : j)];
        float bv = b[(s.BRows == 1 ? 0 : i) * s.BCols + (s.BCols == 1 ? 0 : j)];
        float gk = g[k];
        if (code == (int)BinaryCode.Add) { da[k] = gk; db[k] = gk; }
        else if (code == (int)BinaryCode.Sub) { da[k] = gk; db[k] = -gk; }
        else if (code == (int)BinaryCode.Mul) { da[k] = gk * bv; db[k] = gk * av; }
        else { da[k] = gk / bv; db[k] = -gk * av / (bv * bv); }
    }

    // out (tRows×tCols): out_pq (+)= Σ full_ij over the rows (if tRows = 1) and columns (if tCols = 1) broadcast onto (p, q); full rows×cols.
    internal static void ReduceTo(Index1D o, ArrayView<float> full, ArrayView<float> output, int rows, int cols, int tRows, int tCols, int accumulate)
    {
        int p = o / tCols, q = o - p * tCols;
        int i0 = tRows == 1 ? 0 : p, i1 = tRows == 1 ? rows : p + 1;
        int j0 = tCols == 1 ? 0 : q, j1 = tCols == 1 ? cols : q + 1;
        float acc = 0f;
        for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++) acc += full[(long)i * cols + j];
        output[o] = accumulate != 0 ? output[o] + acc : acc;
    }

    // y (rows×cols): y_ij (+)= c · src broadcast from sRows×sCols (each 1 or equal).
    internal static void BroadcastTo(Index1D k, ArrayView<float> src, ArrayView<float> y, int cols, int sRows, int sCols, float c, int accumulate)
    {
        int i = k / cols, j = k - i * cols;
        float v = c * src[(sRows == 1 ? 0 : i) * sCols + (sCols == 1 ? 0 : j)];
        y[k] = accumulate != 0 ? y[k] + v : v;
    }

    // y (cols×rows): y_ji = a_ij (+ accumulate), a rows×cols.
    internal static void Transpose(Index1D k, ArrayView<float> a, ArrayView<float> y, int rows, int cols, int accumulate)
    {
        int i = k / cols, j = k - i * cols;
        int t = j * rows + i;
        y[t] = accumulate != 0 ? y[t] + a[k] : a[k];
    }

    // y (rows): y_i = log Σ_j exp(a_ij), max-shifted; a rows×cols.
    internal static void LogSumExpRows(Index1D i, ArrayView<float> a, ArrayView<float> y, int cols)
    {
        long off = (long)i.X * cols;
        float mx = a[off];
        for (int j = 1; j < cols; j++) mx = XMath.Max(mx, a[off + j]);
        float s = 0f;
        for (int j = 0; j < cols; j++) s += XMath.Exp(a[off + j] - mx);
        y[i] = mx + XMath.Log(s);
    }

    // ga (rows×cols): ga_ij (+)= g_i · exp(a_ij − y_i) (softmax weights).
    internal static void LogSumExpRowsBackward(Index1D k, ArrayView<float> a, ArrayView<float> y, ArrayView<float> g, ArrayView<float> ga, int cols, int accumulate)
    {
        int i = k / cols;
        float d = g[i] * XMath.Exp(a[k] - y[i]);
        ga[k] = accumulate != 0 ? ga[k] + d : d;
    }

    // y (rows): y_i = sqrt(Σ_j a_ij² + 1e-24); a rows×cols.
    internal static void RowNorms(Index1D i, ArrayView<float> a, ArrayView<float> y, int cols)
    {
        long off = (long)i.X * cols;
        float s = 0f;
        for (int j = 0; j < cols; j++) s += a[off + j] * a[off + j];
        y[i] = XMath.Sqrt(s + 1e-24f);
    }

    // ga (rows×cols): ga_ij (+)= g_i · a_ij / y_i.
    internal static void RowNormsBackward(Index1D k, ArrayView<float> a, ArrayView<float> y, ArrayView<float> g, ArrayView<float> ga, int cols, int accumulate)
    {
        int i = k / cols;
        float d = g[i] * a[k] / y[i];
        ga[k] = accumulate != 0 ? ga[k] + d : d;
    }

    // y (n×p): y_ij (+)= Σ_k S_ik x_kj for CSR S (rowPtr n+1, colIdx/values nnz), x rows×p;
    // 1-D grid-stride over o = i·p + j < total = n·p (64-bit: no grid-y limit on n, no int overflow).
    internal static void SpMM(Index1D thread, ArrayView<int> rowPtr, ArrayView<int> colIdx, ArrayView<float> values, ArrayView<float> x,
        ArrayView<float> y, long total, int stride, int p, int accumulate)
    {
        for (long o = thread; o < total; o += stride)
        {
            long i = Launch.Row(o, p);
            int j = Launch.Col(o, p);
            float acc = 0f;
            for (int k = rowPtr[i]; k < rowPtr[i + 1]; k++) acc += values[k] * x[(long)colIdx[k] * p + j];
            y[o] = accumulate != 0 ? y[o] + acc : acc;
        }
    }

    // out (n×d): out_ik (+)= c · (s_i · x_ik − z_ik); the pull-back of pairwise squared distances (s = row sums of G, z = G·y).
    internal static void ScaledRowsMinus(Index1D k, ArrayView<float> s, ArrayView<float> x, ArrayView<float> z, ArrayView<float> output,
        int d, float c, int accumulate)
    {
        int i = k / d;
        float v = c * (s[i] * x[k] - z[k]);
        output[k] = accumulate != 0 ? output[k] + v : v;
    }
}

/// <summary>
/// The tape kernels loaded once on one accelerator (obtain through
/// <c>device.GetKernels(acc =&gt; new TensorOps(acc))</c>), with typed calls on device views. Calls are
/// queued on the default stream and do not synchronise. Shapes are trusted (the tape checks them).
/// </summary>
internal sealed class TensorOps
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, float> _unary;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> _unaryBack;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastShape, int> _binary;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastShape, int> _binaryBack;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int> _reduceTo;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float, int> _broadcastTo;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> _transpose;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _lse;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _lseBack;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _rowNorms;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _rowNormsBack;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, int> _spmm;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int> _scaledRowsMinus;

    /// <summary>Compiles and loads every kernel on <paramref name="accelerator"/>.</summary>
    public TensorOps(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        var acc = accelerator;
        _unary = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(TensorKernels.UnaryForward);
        _unaryBack = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(TensorKernels.UnaryBackward);
        _binary = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastShape, int>(TensorKernels.BinaryForward);
        _binaryBack = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BroadcastShape, int>(TensorKernels.BinaryBackward);
        _reduceTo = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(TensorKernels.ReduceTo);
        _broadcastTo = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, float, int>(TensorKernels.BroadcastTo);
        _transpose = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(TensorKernels.Transpose);
        _lse = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(TensorKernels.LogSumExpRows);
        _lseBack = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(TensorKernels.LogSumExpRowsBackward);
        _rowNorms = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(TensorKernels.RowNorms);
        _rowNormsBack = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(TensorKernels.RowNormsBackward);
        _spmm = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, long, int, int, int>(TensorKernels.SpMM);
        _scaledRowsMinus = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, int>(TensorKernels.ScaledRowsMinus);
    }

    /// <summary>y = f(x), <paramref name="length"/> entries.</summary>
    public void Unary(ArrayView<float> x, ArrayView<float> y, int length, UnaryCode code, float p) => _unary(length, x, y, (int)code, p);

    /// <summary>ga (+)= g ⊙ f'(x) (y = f(x)).</summary>
    public void UnaryBackward(ArrayView<float> x, ArrayView<float> y, ArrayView<float> g, ArrayView<float> ga, int length, UnaryCode code, float p, bool accumulate) =>
        _unaryBack(length, x, y, g, ga, (int)code, p, accumulate ? 1 : 0);

    /// <summary>y = a ∘ b with broadcasting (y is s.Rows×s.Cols).</summary>
    public void Binary(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, BroadcastShape s, BinaryCode code) =>
        _binary(Launch.CheckedCount(s.Rows, s.Cols, "binary op"), a, b, y, s, (int)code);

    /// <summary>Full-size partials da, db (s.Rows×s.Cols each) of a ∘ b times g; reduce with <see cref="ReduceTo"/>.</summary>
    public void BinaryBackward(ArrayView<float> a, ArrayView<float> b, ArrayView<float> g, ArrayView<float> da, ArrayView<float> db, BroadcastShape s, BinaryCode code) =>
        _binaryBack(Launch.CheckedCount(s.Rows, s.Cols, "binary op backward"), a, b, g, da, db, s, (int)code);

    /// <summary>output (tRows×tCols) (+)= full (rows×cols) summed over the broadcast dimensions (tRows or tCols = 1).</summary>
    public void ReduceTo(ArrayView<float> full, ArrayView<float> output, int rows, int cols, int tRows, int tCols, bool accumulate)
    {
        Launch.CheckedCount(rows, cols, "reduce-to source");
        _reduceTo(Launch.CheckedCount(tRows, tCols, "reduce-to target"), full, output, rows, cols, tRows, tCols, accumulate ? 1 : 0);
    }

    /// <summary>y (rows×cols) (+)= c · src broadcast from sRows×sCols.</summary>
    public void BroadcastTo(ArrayView<float> src, ArrayView<float> y, int rows, int cols, int sRows, int sCols, float c, bool accumulate) =>
        _broadcastTo(Launch.CheckedCount(rows, cols, "broadcast-to"), src, y, cols, sRows, sCols, c, accumulate ? 1 : 0);

    /// <summary>y (cols×rows) (+)= aᵀ for a rows×cols.</summary>
    public void Transpose(ArrayView<float> a, ArrayView<float> y, int rows, int cols, bool accumulate) =>
        _transpose(Launch.CheckedCount(rows, cols, "transpose"), a, y, rows, cols, accumulate ? 1 : 0);

    /// <summary>y_i = log Σ_j exp(a_ij) for a rows×cols.</summary>
    public void LogSumExpRows(ArrayView<float> a, ArrayView<float> y, int rows, int cols) => _lse(rows, a, y, cols);

    /// <summary>ga (+)= g_i · softmax_j(a_i·) given y = LSE rows.</summary>
    public void LogSumExpRowsBackward(ArrayView<float> a, ArrayView<float> y, ArrayView<float> g, ArrayView<float> ga, int rows, int cols, bool accumulate) =>
        _lseBack(Launch.CheckedCount(rows, cols, "log-sum-exp backward"), a, y, g, ga, cols, accumulate ? 1 : 0);

    /// <summary>y_i = ‖a_i‖ (with 1e-24 under the root).</summary>
    public void RowNorms(ArrayView<float> a, ArrayView<float> y, int rows, int cols) => _rowNorms(rows, a, y, cols);

    /// <summary>ga (+)= g_i a_ij / y_i.</summary>
    public void RowNormsBackward(ArrayView<float> a, ArrayView<float> y, ArrayView<float> g, ArrayView<float> ga, int rows, int cols, bool accumulate) =>
        _rowNormsBack(Launch.CheckedCount(rows, cols, "row norms backward"), a, y, g, ga, cols, accumulate ? 1 : 0);

    /// <summary>y (n×p) (+)= S·x for CSR S with n rows.</summary>
    public void SpMM(ArrayView<int> rowPtr, ArrayView<int> colIdx, ArrayView<float> values, ArrayView<float> x, ArrayView<float> y, int n, int p, bool accumulate)
    {
        long total = (long)n * p;
        int threads = Launch.StrideThreads(total);
        if (total > 0) _spmm(threads, rowPtr, colIdx, values, x, y, total, threads, p, accumulate ? 1 : 0);
    }

    /// <summary>output (n×d) (+)= c · (s_i x_ik − z_ik).</summary>
    public void ScaledRowsMinus(ArrayView<float> s, ArrayView<float> x, ArrayView<float> z, ArrayView<float> output, int n, int d, float c, bool accumulate) =>
        _scaledRowsMinus(Launch.CheckedCount(n, d, "scaled rows"), s, x, z, output, d, c, accumulate ? 1 : 0);
}
