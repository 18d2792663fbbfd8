using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Glass.Runner.Output;

/// <summary>
/// Hidden temporary folders (<c>.NAME.tmp-PID-XXXXXXXX@HOST</c>) that carry the PID and host name of the process writing
/// them, so that the next run into the same parent can remove those a killed process left behind. Only folders matching
/// that exact pattern, made on this host, whose process is no longer running are removed; folders of live processes (or
/// a reused PID), of other hosts (several machines writing into one shared folder, e.g. sharded sweeps) and anything
/// else are left alone. Names without <c>@HOST</c> (older versions) are judged by the PID alone.
/// </summary>
internal static partial class StaleTemp
{
    [GeneratedRegex(@"^\..*\.tmp-(\d{1,10})-[0-9a-f]{8}(?:@([^@]*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>This machine's name as it appears in the temporary names (characters other than letters, digits, '.', '-' become '_').</summary>
    internal static string Host { get; } = Regex.Replace(Environment.MachineName, @"[^A-Za-z0-9.\-]", "_");

    /// <summary>A fresh temporary folder name for <paramref name="name"/>, owned by this process on this host.</summary>
    public static string Name(string name) =>
        "." + name + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8] + "@" + Host;

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
            if (m.Groups[2].Success && m.Groups[2].Value != Host) continue; // another machine's process: its PID means nothing here
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
