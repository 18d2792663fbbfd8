using Glass.Kernels.Device;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Glass.Kernels.Sinkhorn;

/// <summary>Scalars of the point-cloud plan kernels (passed by value).</summary>
internal struct PointPlanParams
{
    public int R, C, D, K, Q;
    public double InvGamma;
}

/// <summary>
/// ILGPU kernels over the on-the-fly squared-Euclidean cost of two point clouds, for the large-N inductive path
/// (<see cref="CandidateSinkhorn"/>, <see cref="PlanRows"/>): nothing of size R×C is stored, and the O(R·C·d) passes
/// that the managed backend streams on the host run on the device. Costs are computed in double as the managed
/// reference does, C_rc = max(0, ‖x_r‖² + ‖y_c‖² − 2⟨x_r, y_c⟩).
/// <list type="bullet">
/// <item><b>Nearest</b>: one thread per row keeps a max-heap of its k smallest costs while streaming every column
/// (k ≤ <see cref="MaxK"/>), then writes them ascending.</item>
/// <item><b>Rows</b>: one group per row streams the columns in blocks of the group size: each thread evaluates one
/// plan entry P_rc = exp((f_r + g_c − C_rc)/γ) into shared memory; thread 0 keeps the row's k largest (k ≤
/// <see cref="MaxK"/>, descending, ties to the lower column, as the managed scan does); every thread accumulates its
/// own output coordinates of Σ_c P_rc Z_c for the block (coalesced reads of Z); the row sum is reduced at the end and
/// the projection normalised by it. The entries are unshifted (they are what the kernel returns); <see cref="Device.KernelMath.Exp"/>
/// costs the same for every argument and is exactly 0 below −745, so a far-away column costs no more than a near one.</item>
/// </list>
/// </summary>
internal sealed class PointPlanKernels
{
    /// <summary>Largest k of either kernel (a thread's local heap).</summary>
    internal const int MaxK = 64;
    private const int MaxGroup = 256;
    private readonly Accelerator _acc;
    private readonly int _group;
    private readonly Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams, ArrayView<int>, ArrayView<double>> _nearest;
    private readonly Action<KernelConfig, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams,
        ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<double>> _rows;

    public PointPlanKernels(Accelerator acc)
    {
        _acc = acc;
        _group = Device.Launch.RowGroup(acc, MaxGroup); // 128 on CUDA (and the CUDA-shaped CPU accelerator), 16 on the default CPU accelerator
        _nearest = acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams, ArrayView<int>, ArrayView<double>>(NearestKernel);
        _rows = acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, PointPlanParams,
            ArrayView<int>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(RowsKernel);
    }

    private static double Cost(ArrayView<double> x, ArrayView<double> y, ArrayView<double> xn, ArrayView<double> yn, int r, int c, int d)
    {
        if (d == 1)
        {
            // 1-D scores: (x_r − y_c)² exactly, as the managed geometry.
            double e = x[r] - y[c];
            return e * e;
        }
        double s = xn[r] + yn[c];
        for (int k = 0; k < d; k++) s += -2 * x[(long)r * d + k] * y[(long)c * d + k];
        return s > 0 ? s : 0;
    }

    // R threads: idx/val[r·K …] ← the K smallest C_rc, ascending.
    private static void NearestKernel(Index1D index, ArrayView<double> x, ArrayView<double> y, ArrayView<double> xn, ArrayView<double> yn,
        PointPlanParams p, ArrayView<int> idx, ArrayView<double> val)
    {
        var hv = LocalMemory.Allocate<double>(MaxK);
        var hi = LocalMemory.Allocate<int>(MaxK);
        int r = index, k = p.K;
        for (int c = 0; c < k; c++)
        {
            // Sift up into the max-heap.
            hv[c] = Cost(x, y, xn, yn, r, c, p.D);
            hi[c] = c;
            int q = c;
            while (q > 0)
            {
                int par = (q - 1) / 2;
                if (hv[par] >= hv[q]) break;
                double tv = hv[par]; hv[par] = hv[q]; hv[q] = tv;
                int ti = hi[par]; hi[par] = hi[q]; hi[q] = ti;
                q = par;
            }
        }
        for (int c = k; c < p.C; c++)
        {
            double v = Cost(x, y, xn, yn, r, c, p.D);
            if (v >= hv[0]) continue;
            hv[0] = v; hi[0] = c;
            int q = 0;
            for (; ; )
            {
                int l = 2 * q + 1, rr = l + 1, big = q;
                if (l < k && hv[l] > hv[big]) big = l;
                if (rr < k && hv[rr] > hv[big]) big = rr;
                if (big == q) break;
                double tv = hv[q]; hv[q] = hv[big]; hv[big] = tv;
                int ti = hi[q]; hi[q] = hi[big]; hi[big] = ti;
                q = big;
            }
        }
        // Ascending by cost (insertion sort of k ≤ 64), then out.
        for (int a = 1; a < k; a++)
        {
            double v = hv[a];
            int iv = hi[a], b = a - 1;
            while (b >= 0 && (hv[b] > v || (hv[b] == v && hi[b] > iv))) { hv[b + 1] = hv[b]; hi[b + 1] = hi[b]; b--; }
            hv[b + 1] = v; hi[b + 1] = iv;
        }
        for (int a = 0; a < k; a++) { idx[(long)r * k + a] = hi[a]; val[(long)r * k + a] = hv[a]; }
    }

    // grid = rows R, one group per row: top-K of P_r·, Σ_c P_rc and Σ_c P_rc Z_c / Σ_c P_rc (Z: C×Q, may be empty).
    private static void RowsKernel(ArrayView<double> x, ArrayView<double> y, ArrayView<double> xn, ArrayView<double> yn,
        ArrayView<double> f, ArrayView<double> g, ArrayView<double> z, PointPlanParams p,
        ArrayView<int> topI, ArrayView<double> topV, ArrayView<double> rowSum, ArrayView<double> proj)
    {
        var sh = SharedMemory.Allocate<double>(MaxGroup);
        var tv = LocalMemory.Allocate<double>(MaxK);
        var ti = LocalMemory.Allocate<int>(MaxK);
        int r = Grid.IdxX, t = Group.IdxX, gs = Group.DimX, k = p.K;
        double fr = f[r], sum = 0;
        int filled = 0;
        for (int q = t; q < p.Q; q += gs) proj[(long)r * p.Q + q] = 0;
        for (int c0 = 0; c0 < p.C; c0 += gs)
        {
            int c = c0 + t, bl = XMath.Min(gs, p.C - c0);
            double v = 0;
            if (c < p.C) v = KernelMath.Exp((fr + g[c] - Cost(x, y, xn, yn, r, c, p.D)) * p.InvGamma);
            sum += v;
            sh[t] = v;
            Group.Barrier();
            if (t == 0)
            {
                for (int u = 0; u < bl; u++)
                {
                    double w = sh[u];
                    if (filled < k || w > tv[k - 1])
                    {
                        int pos = filled < k ? filled++ : k - 1;
                        while (pos > 0 && tv[pos - 1] < w) { tv[pos] = tv[pos - 1]; ti[pos] = ti[pos - 1]; pos--; }
                        tv[pos] = w; ti[pos] = c0 + u;
                    }
                }
            }
            for (int q = t; q < p.Q; q += gs)
            {
                double s = 0;
                for (int u = 0; u < bl; u++) s += sh[u] * z[(long)(c0 + u) * p.Q + q];
                proj[(long)r * p.Q + q] += s;
            }
            Group.Barrier();
        }
        // Row sum: tree reduction in shared memory.
        sh[t] = sum;
        Group.Barrier();
        for (int s = gs / 2; s > 0; s >>= 1)
        {
            if (t < s) sh[t] += sh[t + s];
            Group.Barrier();
        }
        double total = sh[0];
        double inv = total > 0 ? 1 / total : 0;
        for (int q = t; q < p.Q; q += gs) proj[(long)r * p.Q + q] *= inv;
        if (t == 0)
        {
            rowSum[r] = total;
            for (int a = 0; a < k; a++) { topI[(long)r * k + a] = ti[a]; topV[(long)r * k + a] = tv[a]; }
        }
    }

    private static double[] SquaredNorms(double[] x, int rows, int d)
    {
        var s = new double[rows];
        for (int i = 0; i < rows; i++) { double v = 0; for (int k = 0; k < d; k++) v += x[(long)i * d + k] * x[(long)i * d + k]; s[i] = v; }
        return s;
    }

    /// <summary>The k nearest columns of every row of the cost between x (R×d) and y (C×d): indices and costs, ascending.</summary>
    public (int[] Idx, double[] Cost) Nearest(double[] x, double[] y, int d, int k)
    {
        int rows = x.Length / d, cols = y.Length / d;
        using var xs = _acc.Allocate1D(x);
        using var ys = _acc.Allocate1D(y);
        using var xn = _acc.Allocate1D(SquaredNorms(x, rows, d));
        using var yn = _acc.Allocate1D(SquaredNorms(y, cols, d));
        using var idx = _acc.Allocate1D<int>((long)rows * k);
        using var val = _acc.Allocate1D<double>((long)rows * k);
        _nearest(rows, xs.View, ys.View, xn.View, yn.View, new PointPlanParams { R = rows, C = cols, D = d, K = k }, idx.View, val.View);
        _acc.Synchronize();
        return (idx.GetAsArray1D(), val.GetAsArray1D());
    }

    /// <summary>Per row of P_rc = exp((f_r + g_c − C_rc)/γ): the k largest entries, the sum, and Σ_c P_rc Z_c / Σ_c P_rc.</summary>
    public (int[] TopI, double[] TopV, double[] RowSum, double[] Projection) Rows(double[] x, double[] y, int d, double[] f, double[] g,
        double gamma, int k, double[]? z, int q)
    {
        int rows = x.Length / d, cols = y.Length / d;
        using var xs = _acc.Allocate1D(x);
        using var ys = _acc.Allocate1D(y);
        using var xn = _acc.Allocate1D(SquaredNorms(x, rows, d));
        using var yn = _acc.Allocate1D(SquaredNorms(y, cols, d));
        using var fs = _acc.Allocate1D(f);
        using var gs = _acc.Allocate1D(g);
        using var zs = _acc.Allocate1D(z is null || q == 0 ? new double[1] : z);
        using var ti = _acc.Allocate1D<int>((long)rows * k);
        using var tv = _acc.Allocate1D<double>((long)rows * k);
        using var sum = _acc.Allocate1D<double>(rows);
        using var proj = _acc.Allocate1D<double>(Math.Max(1, (long)rows * q));
        var p = new PointPlanParams { R = rows, C = cols, D = d, K = k, Q = z is null ? 0 : q, InvGamma = 1 / gamma };
        _rows(new KernelConfig(rows, _group), xs.View, ys.View, xn.View, yn.View, fs.View, gs.View, zs.View, p, ti.View, tv.View, sum.View, proj.View);
        _acc.Synchronize();
        var pr = proj.GetAsArray1D();
        if (pr.Length != (long)rows * q) pr = new double[(long)rows * q];
        return (ti.GetAsArray1D(), tv.GetAsArray1D(), sum.GetAsArray1D(), pr);
    }
}
