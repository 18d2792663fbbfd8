using System.Runtime.InteropServices;

namespace GemmBench;

/// <summary>CPU time consumed by this process (all threads), from clock_gettime(CLOCK_PROCESS_CPUTIME_ID).</summary>
internal static partial class CpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec ts);

    public static double ProcessSeconds() =>
        ClockGetTime(ClockProcessCpuTimeId, out var ts) == 0 ? ts.Seconds + ts.Nanoseconds * 1e-9 : double.NaN;
}
