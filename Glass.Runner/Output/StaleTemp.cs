using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Glass.Runner.Output;

/// <summary>
/// Hidden temporary folders (<c>.NAME.tmp-PID-XXXXXXXX</c>) that carry the PID of the process writing them, so that
/// the next run into the same parent can remove those a killed process left behind. Only folders matching that exact
/// pattern whose process is no longer running are removed; folders of live processes (or a reused PID) and anything
/// else are left alone.
/// </summary>
internal static partial class StaleTemp
{
    [GeneratedRegex(@"^\..*\.tmp-(\d{1,10})-[0-9a-f]{8}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>A fresh temporary folder name for <paramref name="name"/>, owned by this process.</summary>
    public static string Name(string name) =>
        "." + name + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Removes the temporary folders in <paramref name="parent"/> whose owning process is dead; returns how many.</summary>
    public static int Clean(string parent)
    {
        if (!Directory.Exists(parent)) return 0;
        int removed = 0;
        IEnumerable<string> dirs;
        try { dirs = Directory.EnumerateDirectories(parent, ".*.tmp-*").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        foreach (var d in dirs)
        {
            var m = Pattern().Match(Path.GetFileName(d));
            if (!m.Success || !int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (IsAlive(pid)) continue;
            try
            {
                if ((File.GetAttributes(d) & FileAttributes.ReparsePoint) != 0) continue; // never follow a link
                Directory.Delete(d, recursive: true);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>True when a process with id <paramref name="pid"/> is running (or cannot be ruled out).</summary>
    internal static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { return true; }
    }
}
