using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Glass.Runner.Output;

/// <summary>
/// An exclusive OS lock on a run folder's <c>.lock</c> file, held while one process writes the folder, so that two
/// <c>glass run --resume DIR</c> (or a run and a sweep) cannot write the same metrics.csv and checkpoints at once.
/// The file is opened with <see cref="FileShare.None"/> (on Linux and macOS an advisory <c>flock</c>, on Windows a
/// sharing lock) and the holder's PID is written into it. The OS drops the lock when the process dies, so a
/// <c>.lock</c> left behind by a dead process opens exclusively again and is simply taken over. The file is left in
/// place on release: deleting it would let a second process lock the unlinked file while a third creates a new one.
/// </summary>
internal sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name inside a run folder (hidden: readers skip dot-names).</summary>
    public const string FileName = ".lock";

    private readonly FileStream _stream;

    private RunLock(string path, FileStream stream) => (Path, _stream) = (path, stream);

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>Takes the lock on <paramref name="dir"/>, writing this process's PID into <c>dir/.lock</c>.</summary>
    /// <exception cref="IOException">Another live process holds the lock; the message names the folder and its PID.</exception>
    public static RunLock Acquire(string dir)
    {
        string path = System.IO.Path.Combine(dir, FileName);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            string holder = ReadHolder(path) is { } pid ? $"process {pid}" : "another process";
            throw new IOException($"{dir}: run folder is in use by {holder} (lock {path}); wait for it to finish or stop it first.", e);
        }
        try
        {
            stream.SetLength(0);
            byte[] pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            stream.Write(pid);
            stream.Flush(flushToDisk: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        return new RunLock(path, stream);
    }

    /// <summary>The PID written in a lock file, or null when it cannot be read.</summary>
    /// <remarks>
    /// .NET opens every file on Unix with a <c>flock</c> (shared for readers), which the holder's exclusive lock refuses;
    /// so the few bytes are read with libc's <c>open</c>/<c>read</c>, which take no lock. On Windows the holder's
    /// <see cref="FileShare.None"/> forbids reading; the message then says "another process".
    /// </remarks>
    internal static int? ReadHolder(string path)
    {
        string text;
        try
        {
            if (OperatingSystem.IsWindows()) return null;
            int fd = Libc.Open(path, 0 /* O_RDONLY */);
            if (fd < 0) return null;
            try
            {
                var buf = new byte[32];
                nint n = Libc.Read(fd, buf, buf.Length);
                if (n <= 0) return null;
                text = Encoding.ASCII.GetString(buf, 0, (int)n);
            }
            finally { Libc.Close(fd); }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
    }

    private static class Libc
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "read", SetLastError = true)]
        public static extern nint Read(int fd, byte[] buffer, nint count);

        [DllImport("libc", EntryPoint = "close")]
        public static extern int Close(int fd);
    }

    /// <summary>Releases the lock (the file stays).</summary>
    public void Dispose() => _stream.Dispose();
}
