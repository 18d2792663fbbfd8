using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace Glass.Tests.Support;

/// <summary>
/// Runs this test assembly without the .NET SDK or VSTest, through NUnit's own in-framework runner
/// (<see cref="NUnitTestAssemblyRunner"/>). It exists for machines that have a GPU but no .NET (the lent CUDA
/// machine): publish this project self-contained (<c>bench/device/pack.sh</c>) and run
/// <c>Glass.Tests --category Gpu</c> there. <c>dotnet test</c> does not use this entry point (VSTest loads the
/// assembly itself), so CI is unaffected.
/// </summary>
public static class StandaloneRunner
{
    /// <summary>
    /// Usage: <c>Glass.Tests [--category NAME]… [--name-contains TEXT] [--list] [--verbose]</c>. Categories are OR-ed (a test
    /// passes the filter when it or a fixture above it has one of them); no category = every test. Prints one line
    /// per failed test with its message (with <c>--verbose</c>: one line per test with its status and seconds), and a last line <c>N passed, N failed, N skipped</c>. Exit code 0 when
    /// nothing failed, 1 when something did (or, under <c>GLASS_REQUIRE_CUDA=1</c>, when nothing passed), 2 on bad arguments.
    /// </summary>
    public static int Main(string[] args)
    {
        var categories = new List<string>();
        string? nameContains = null;
        bool list = false, verbose = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--category" when i + 1 < args.Length: categories.Add(args[++i]); break;
                case "--name-contains" when i + 1 < args.Length: nameContains = args[++i]; break;
                case "--list": list = true; break;
                case "--verbose": verbose = true; break;
                default:
                    Console.Error.WriteLine($"Glass.Tests: unknown or incomplete argument '{args[i]}'. Usage: Glass.Tests [--category NAME]… [--name-contains TEXT] [--list] [--verbose]");
                    return 2;
            }
        }

        var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
        var settings = new Dictionary<string, object>
        {
            ["WorkDirectory"] = AppContext.BaseDirectory,
            ["NumberOfTestWorkers"] = 0, // run in order on this thread: device tests share one accelerator
        };
        runner.Load(Assembly.GetExecutingAssembly(), settings);
        ITestFilter filter = BuildFilter(categories, nameContains);
        if (list)
        {
            int count = 0;
            foreach (var t in Leaves(runner.LoadedTest!).Where(filter.Pass)) { Console.WriteLine(t.FullName); count++; }
            Console.WriteLine($"{count} tests");
            return 0;
        }

        var listener = new Listener(verbose);
        var sw = Stopwatch.StartNew();
        runner.Run(listener, filter);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"({sw.Elapsed.TotalSeconds:F1} s)"));
        Console.WriteLine($"{listener.Passed} passed, {listener.Failed} failed, {listener.Skipped} skipped");
        return ExitCode(listener.Passed, listener.Failed, listener.Skipped, Devices.RequireCuda, Console.Out);
    }

    /// <summary>
    /// 1 when a test failed; under <c>GLASS_REQUIRE_CUDA=1</c> also 1 when nothing passed (every selected test skipped,
    /// or none was selected), with a line saying so: on the GPU machine a run that tested nothing is not a success.
    /// </summary>
    internal static int ExitCode(int passed, int failed, int skipped, bool requireCuda, TextWriter log)
    {
        if (failed > 0) return 1;
        if (requireCuda && passed == 0)
        {
            log.WriteLine(skipped > 0
                ? $"{Devices.RequireCudaVariable}=1 and all {skipped} selected tests were skipped: failing the run."
                : $"{Devices.RequireCudaVariable}=1 and no test was selected: failing the run.");
            return 1;
        }
        return 0;
    }

    private static ITestFilter BuildFilter(List<string> categories, string? nameContains)
    {
        var parts = new List<string>();
        if (categories.Count > 0)
            parts.Add("<or>" + string.Concat(categories.Select(c => $"<cat>{SecurityElement.Escape(c)}</cat>")) + "</or>");
        if (nameContains is not null)
            parts.Add($"<test re=\"1\">.*{System.Text.RegularExpressions.Regex.Escape(SecurityElement.Escape(nameContains)!)}.*</test>");
        if (parts.Count == 0) return TestFilter.Empty;
        return TestFilter.FromXml("<filter><and>" + string.Concat(parts) + "</and></filter>");
    }

    private static IEnumerable<ITest> Leaves(ITest t)
    {
        if (!t.HasChildren) { if (!t.IsSuite) yield return t; yield break; }
        foreach (var c in t.Tests)
            foreach (var l in Leaves(c)) yield return l;
    }

    /// <summary>Counts leaf results and prints each failure as it happens.</summary>
    private sealed class Listener(bool verbose) : ITestListener
    {
        public int Passed, Failed, Skipped;

        // NUnit redirects Console.Out while tests run (to capture their output), so report on the raw stdout stream.
        private readonly TextWriter _out = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };

        public void TestStarted(ITest test) { }

        public void TestFinished(ITestResult result)
        {
            if (result.Test.IsSuite)
            {
                // A fixture whose one-time set-up failed reports its children as failed too; count those at the leaves.
                return;
            }
            if (verbose)
                _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.ResultState.Status,-12} {result.Duration,8:F3} s  {result.FullName}"));
            switch (result.ResultState.Status)
            {
                case TestStatus.Passed: Passed++; break;
                case TestStatus.Failed:
                    Failed++;
                    _out.WriteLine($"FAILED {result.FullName}: {result.Message?.Trim()}");
                    break;
                case TestStatus.Warning:
                    Passed++;
                    _out.WriteLine($"WARNING {result.FullName}: {result.Message?.Trim()}");
                    break;
                default: Skipped++; break; // Skipped (Ignore: e.g. no CUDA device), Inconclusive (Assume)
            }
        }

        public void TestOutput(TestOutput output) { }

        public void SendMessage(TestMessage message) { }
    }
}
