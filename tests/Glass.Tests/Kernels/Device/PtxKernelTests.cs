using System.Reflection;
using System.Text.RegularExpressions;
using Glass.Kernels.PointClouds;
using Glass.Kernels.Sinkhorn;
using Glass.Autodiff.Device;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;

namespace Glass.Tests.Kernels.Device;

/// <summary>
/// The kernels as the CUDA accelerator would compile them, checked without a GPU: ILGPU's <see cref="PTXBackend"/>
/// for sm_90 (H100/H200; PTX ISA 7.8, the first that knows sm_90), with ILGPU.Algorithms' intrinsics as
/// <c>ComputeDevice</c> enables them, compiles each kernel from its method the way <c>LoadStreamKernel</c>
/// (explicitly grouped) or <c>LoadAutoGroupedStreamKernel</c> (implicitly grouped) loads it. The PTX must hold no
/// call at all — in particular none of ILGPU's software CORDIC routines, which double <c>XMath.Exp</c>/<c>Log</c> and
/// float <c>Atan2</c>/<c>Acos</c> compile to — and no local memory beyond the arrays a kernel allocates on purpose
/// (PTX registers are virtual, so <c>.local</c> here means an ILGPU alloca that was not promoted to registers; ptxas
/// register spills are only visible on a machine with the CUDA toolkit). Instruction counts of every kernel are
/// printed, so a regression shows in the test log.
/// </summary>
[TestFixture]
public sealed class PtxKernelTests
{
    private Context? _context;
    private PTXBackend? _backend;

    [OneTimeSetUp]
    public void CreateBackend()
    {
        _context = Context.Create(b => b.EnableAlgorithms());
        _backend = new PTXBackend(_context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, nvvmAPI: null!); // no NVVM: ILGPU's own PTX generator
    }

    [OneTimeTearDown]
    public void DisposeBackend()
    {
        _backend?.Dispose();
        _context?.Dispose();
    }

    /// <summary>A kernel method, how it is loaded, and the local memory it allocates on purpose (bytes).</summary>
    public sealed record KernelCase(Type Owner, string Method, bool ExplicitlyGrouped, int IntendedLocalBytes)
    {
        public override string ToString() => Owner.Name + "." + Method;
    }

    /// <summary>The hot kernels: every Sinkhorn kernel, the point-plan kernels, the tape and geometry kernels.</summary>
    public static IEnumerable<KernelCase> HotKernels()
    {
        yield return new(typeof(DenseSinkhornKernels), "RowUpdateKernel", true, 0);
        yield return new(typeof(DenseSinkhornKernels), "FinishKernel", true, 0);
        yield return new(typeof(DenseSinkhornKernels), "RowUpdatePointsKernel", true, 0);
        yield return new(typeof(DenseSinkhornKernels), "FinishPointsKernel", true, 0);
        yield return new(typeof(DenseSinkhornKernels), "TransposeKernel", false, 0);
        // Entropic GW's resident outer loop (GwDeviceLoop).
        yield return new(typeof(Glass.Kernels.Gw.GwKernels), "Narrow", false, 0);
        yield return new(typeof(Glass.Kernels.Gw.GwKernels), "RowSquaredDiff", true, 0);
        yield return new(typeof(Glass.Kernels.Gw.GwKernels), "RowDot", true, 0);
        yield return new(typeof(BandedSinkhornKernels), "UpdateKernel", false, 0);
        yield return new(typeof(BandedSinkhornKernels), "PlanKernel", false, 0);
        // Both keep a k ≤ 64 heap/list per thread in LocalMemory: 64 doubles + 64 ints.
        yield return new(typeof(PointPlanKernels), "NearestKernel", true, PointPlanKernels.MaxK * (8 + 4));
        yield return new(typeof(PointPlanKernels), "RowsKernel", true, PointPlanKernels.MaxK * (8 + 4));
        foreach (var m in new[] { "UnaryForward", "UnaryBackward", "LogSumExpRows", "LogSumExpRowsBackward", "BinaryForward", "RowNorms" })
            yield return new(typeof(TensorKernels), m, false, 0);
        foreach (var m in new[] { "Log", "Exp", "Geodesic", "SquaredEuclidean" })
            yield return new(typeof(PointCloudKernels), m, false, 0);
    }

    private string Compile(KernelCase k)
    {
        var method = k.Owner.GetMethod(k.Method, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new MissingMethodException(k.Owner.FullName, k.Method);
        var entry = k.ExplicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)_backend!.Compile(entry, default);
        return compiled.PTXAssembly;
    }

    // An instruction line: tab-indented opcode (optionally predicated), not a directive, label or brace.
    private static readonly Regex Instruction = new(@"^\s+(@!?%\w+\s+)?[a-z][\w.]*(\s|;)", RegexOptions.Multiline);
    private static readonly Regex Call = new(@"^\s+(@!?%\w+\s+)?call(\.uni)?\b", RegexOptions.Multiline);
    private static readonly Regex FuncDecl = new(@"^\s*(\.visible\s+|\.weak\s+)?\.func\b.*$", RegexOptions.Multiline);
    private static readonly Regex LocalDepot = new(@"\.local\s+\.align\s+\d+\s+\.b8\s+\w+\[(\d+)\]");
    private static readonly Regex Cordic = new(@"(?i)cordic|hyperbolic|vectoriteration|rotateiteration|matrixmultiply");

    [TestCaseSource(nameof(HotKernels))]
    public void CompilesToStraightLinePtxForSm90(KernelCase k)
    {
        string ptx = Compile(k);
        int instructions = Instruction.Matches(ptx).Count;
        int calls = Call.Matches(ptx).Count;
        var funcs = FuncDecl.Matches(ptx).Select(m => m.Value.Trim()).ToList();
        int localBytes = LocalDepot.Matches(ptx).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        int f64Div = Regex.Matches(ptx, @"\bdiv\.rn\.f64\b").Count;
        TestContext.Progress.WriteLine(
            $"PTX sm_90 {k,-46} {instructions,5} instructions, {calls} calls, {funcs.Count} .func, {localBytes} B .local, {f64Div} div.rn.f64");

        Assert.That(Cordic.IsMatch(ptx), Is.False, $"{k}: PTX references a CORDIC routine ({Cordic.Match(ptx).Value})");
        Assert.That(funcs, Is.Empty, $"{k}: PTX declares functions (not inlined): {string.Join("; ", funcs)}");
        Assert.That(calls, Is.Zero, $"{k}: PTX has {calls} call instructions");
        Assert.That(localBytes, Is.EqualTo(k.IntendedLocalBytes),
            $"{k}: .local bytes {localBytes}, expected only the kernel's own LocalMemory arrays ({k.IntendedLocalBytes} B)");
        if (k.IntendedLocalBytes == 0)
            Assert.That(Regex.IsMatch(ptx, @"\b(ld|st)\.local\b"), Is.False, $"{k}: PTX loads or stores local memory");
        Assert.That(instructions, Is.GreaterThan(10), $"{k}: the instruction count regex finds the body");
    }

    [Test]
    public void DoubleExpAndLogCompileToStraightLineArithmetic()
    {
        // The dense row update: per entry one exp (fma/mul/add, cvt, shl/add for 2^k), one log and one division per row.
        string ptx = Compile(new KernelCase(typeof(DenseSinkhornKernels), "RowUpdateKernel", true, 0));
        Assert.That(Regex.Matches(ptx, @"\bdiv\.rn\.f64\b").Count, Is.LessThanOrEqualTo(2),
            "divisions: one in log, at most one more (the CORDIC exp had one per iteration)");
        Assert.That(Regex.IsMatch(ptx, @"\bcvt\.rzi\.s32\.f64\b"), Is.True, "exp: k = (int)(x/ln 2 ± ½)");
    }

    [Test]
    public void FloatExpAndLogStayOnTheHardwareUnits()
    {
        // Float exp/log are left on XMath because PTX maps them to the MUFU instructions; this pins that.
        string ptx = Compile(new KernelCase(typeof(TensorKernels), "LogSumExpRows", false, 0));
        Assert.That(ptx, Does.Contain("ex2.approx"), "float exp → ex2.approx.f32");
        Assert.That(ptx, Does.Contain("lg2.approx"), "float log → lg2.approx.f32");
    }

    [Test]
    public void TheCheckSeesCordicWhereItIsUsed()
    {
        // A kernel that still uses XMath's double exp must fail the check above (guards against a vacuous regex).
        string ptx = Compile(new KernelCase(typeof(PtxKernelTests), nameof(CordicProbe), false, 0));
        Assert.That(Cordic.IsMatch(ptx), Is.True, "double XMath.Exp compiles to CORDIC in ILGPU.Algorithms 1.5.3");
        Assert.That(Call.Matches(ptx).Count, Is.GreaterThan(0));
    }

    // One thread per entry: y_k = XMath.Exp(x_k) in double (the pattern KernelMath replaces).
    private static void CordicProbe(Index1D k, ArrayView<double> x) => x[k] = ILGPU.Algorithms.XMath.Exp(x[k]);
}
