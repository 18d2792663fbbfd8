using System.Reflection;
using System.Runtime.CompilerServices;
using Glass.Autodiff;
using Glass.Kernels.Device;
using Glass.Kernels.Device.LowLevel;
using Glass.Models.Gw;
using NUnit.Framework;

namespace Glass.Tests.Api;

/// <summary>
/// The public surface of the library assemblies (Glass.Kernels, Glass.Autodiff, Glass.Models) keeps ILGPU out of
/// sight: no signature a user can reach — a public or protected member of an exported type, a base type or interface,
/// a generic constraint — mentions a type from an ILGPU assembly, except in a namespace ending in <c>.LowLevel</c>,
/// the deliberate door for code that embeds Glass in its own ILGPU pipeline. And the libraries open their internals to
/// the test project only.
/// </summary>
[TestFixture]
public sealed class PublicSurfaceTests
{
    private static readonly Assembly[] Libraries =
    {
        typeof(ComputeDevice).Assembly, // Glass.Kernels
        typeof(Tape).Assembly,          // Glass.Autodiff
        typeof(GwModel).Assembly,       // Glass.Models
    };

    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Test]
    public void NoIlgpuTypeOnThePublicSurfaceOutsideLowLevel()
    {
        var found = new List<string>();
        int types = 0;
        foreach (var asm in Libraries)
            foreach (var t in asm.GetExportedTypes().Where(t => !IsLowLevel(t)))
            {
                types++;
                found.AddRange(IlgpuMentions(t));
            }
        Assert.That(types, Is.GreaterThan(50), "exported types checked (a vacuous scan would check none)");
        Assert.That(found, Is.Empty,
            "ILGPU types on the public surface outside a *.LowLevel namespace:\n  " + string.Join("\n  ", found));
    }

    /// <summary>The scan finds what it looks for: the low-level types (skipped above) do expose ILGPU types.</summary>
    [Test]
    public void TheScanSeesIlgpuInTheLowLevelTypes()
    {
        foreach (var t in new[] { typeof(DeviceInterop), typeof(MatMulOps), typeof(PointCloudOps) })
        {
            Assert.That(IsLowLevel(t), Is.True, t.FullName);
            Assert.That(IlgpuMentions(t), Is.Not.Empty, $"{t.FullName}: the scan should see its ILGPU parameters");
        }
        // Wrappers: by-ref, arrays, nullable and generic arguments are unwrapped.
        Assert.That(MentionsIlgpu(typeof(Dictionary<string, ILGPU.Index1D?[]>)), Is.True, "generic argument → nullable → array");
        Assert.That(MentionsIlgpu(typeof(ILGPU.ArrayView<float>).MakeByRefType()), Is.True, "by-ref");
        Assert.That(MentionsIlgpu(typeof(Func<List<int>, double[]>)), Is.False, "no ILGPU type");
        var probe = IlgpuMentions(typeof(SurfaceProbe));
        foreach (var where in new[] { "base type", "field Field", "method Take parameter view", "event Event", "method Constrained constraint on T" })
            Assert.That(probe, Has.Some.Contains(": " + where + ":"), $"probe: {where} not seen in\n  {string.Join("\n  ", probe)}");
        Assert.That(probe, Has.None.Contains("Hidden"), "a private member is not on the surface");
    }

    [Test]
    public void InternalsAreVisibleToTheTestProjectOnly()
    {
        foreach (var asm in Libraries)
        {
            var friends = asm.GetCustomAttributes<InternalsVisibleToAttribute>()
                .Select(a => a.AssemblyName.Split(',')[0].Trim())
                .ToList();
            // ILGPURuntime: the dynamic assembly ILGPU's CPU accelerator emits its kernel launchers into; it must see the
            // internal kernel parameter types (Glass.Kernels, Glass.Autodiff). Not a Glass assembly.
            Assert.That(friends.Except(new[] { "Glass.Tests", "ILGPURuntime" }), Is.Empty,
                $"{asm.GetName().Name}: InternalsVisibleTo {string.Join(", ", friends)}");
            Assert.That(friends, Does.Contain("Glass.Tests"), asm.GetName().Name);
        }
    }

    private static bool IsLowLevel(Type t) => t.Namespace?.EndsWith(".LowLevel", StringComparison.Ordinal) == true;

    private static bool Visible(MethodBase? m) => m is not null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);

    private static bool Visible(FieldInfo f) => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly;

    /// <summary>Every place in <paramref name="t"/>'s visible signature that mentions an ILGPU type, one line each.</summary>
    private static List<string> IlgpuMentions(Type t)
    {
        var found = new List<string>();
        void Check(Type? x, string where)
        {
            if (x is not null && MentionsIlgpu(x)) found.Add($"{t.FullName}: {where}: {x}");
        }
        void CheckGenericParameters(Type[] args, string where)
        {
            foreach (var g in args.Where(a => a.IsGenericParameter))
                foreach (var c in g.GetGenericParameterConstraints()) Check(c, $"{where} constraint on {g.Name}");
        }

        Check(t.BaseType, "base type");
        foreach (var i in t.GetInterfaces()) Check(i, "interface");
        if (t.IsGenericTypeDefinition) CheckGenericParameters(t.GetGenericArguments(), "type");
        foreach (var f in t.GetFields(Declared).Where(Visible)) Check(f.FieldType, "field " + f.Name);
        foreach (var p in t.GetProperties(Declared).Where(p => Visible(p.GetMethod) || Visible(p.SetMethod)))
        {
            Check(p.PropertyType, "property " + p.Name);
            foreach (var ip in p.GetIndexParameters()) Check(ip.ParameterType, $"indexer {p.Name} parameter {ip.Name}");
        }
        foreach (var e in t.GetEvents(Declared).Where(e => Visible(e.AddMethod) || Visible(e.RemoveMethod)))
            Check(e.EventHandlerType, "event " + e.Name);
        foreach (var m in t.GetMethods(Declared).Where(Visible)) // accessors and operators too
        {
            Check(m.ReturnType, $"method {m.Name} return");
            foreach (var p in m.GetParameters()) Check(p.ParameterType, $"method {m.Name} parameter {p.Name}");
            if (m.IsGenericMethodDefinition) CheckGenericParameters(m.GetGenericArguments(), "method " + m.Name);
        }
        foreach (var c in t.GetConstructors(Declared).Where(Visible))
            foreach (var p in c.GetParameters()) Check(p.ParameterType, $"constructor parameter {p.Name}");
        return found;
    }

    /// <summary>True when <paramref name="t"/> is, wraps (by-ref, pointer, array, nullable) or has as a generic argument a type from an ILGPU assembly.</summary>
    private static bool MentionsIlgpu(Type t)
    {
        if (t.HasElementType) return MentionsIlgpu(t.GetElementType()!);
        if (t.IsGenericParameter) return false; // its constraints are checked where it is declared
        if (t.Assembly.GetName().Name?.StartsWith("ILGPU", StringComparison.Ordinal) == true) return true;
        return t.IsGenericType && t.GetGenericArguments().Any(MentionsIlgpu);
    }

    /// <summary>A type exposing ILGPU in the ways the scan must catch (and a private one it must not).</summary>
    public class SurfaceProbe : List<ILGPU.Index1D>
    {
        /// <summary>Probe.</summary>
        public ILGPU.Index2D[]? Field;
#pragma warning disable CS0067 // never raised: only its signature matters
        /// <summary>Probe.</summary>
        public event Action<ILGPU.Index3D>? Event;
#pragma warning restore CS0067
        /// <summary>Probe.</summary>
        protected void Take(ref ILGPU.ArrayView<int> view) { }
        /// <summary>Probe.</summary>
        public void Constrained<T>() where T : IEquatable<ILGPU.Index1D> { }
        private void Hidden(ILGPU.Index1D i) { }
    }
}
