using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Glass.Runner.Output;

/// <summary>
/// One run folder, <c>&lt;out_dir&gt;/&lt;exp_name&gt;_&lt;yyyyMMdd-HHmmss&gt;[_k]/</c>:
/// <code>
/// config.json                  resolved config (all defaults; loads back with `glass run`)
/// run.json                     kind, exp_name, seed, steps, config_hash, source config, device, times
/// metrics.csv                  one row per step, the experiment's columns, flushed each step
/// checkpoints/ckpt_stepNNNNNN/ experiment state + checkpoint.json (step, metric_rows, config_hash)
/// checkpoints/latest           name of the newest checkpoint folder
/// summary.json                 final metrics row + IExperiment.Evaluate() + wall time
/// plots/*.png                  loss, gamma, nnz, perm_acc over steps
/// COMPLETE                     written last: the run finished
/// .lock                        PID of the process writing the folder, OS-locked while it runs (see RunLock)
/// </code>
/// The folder appears atomically (prepared under a temporary name, then renamed), and so does every
/// checkpoint, so a killed run never leaves a half-written one. A folder from <see cref="Create"/> or
/// <see cref="OpenForWriting"/> holds the folder's lock until it is disposed: one writer at a time.
/// </summary>
internal sealed class RunFolder : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string RunInfoFile = "run.json";
    public const string MetricsFile = "metrics.csv";
    public const string SummaryFile = "summary.json";
    public const string CompleteFile = "COMPLETE";
    public const string CheckpointsDir = "checkpoints";
    public const string CheckpointInfoFile = "checkpoint.json";
    private const string CkptPrefix = "ckpt_step";

    private RunLock? _lock;

    private RunFolder(string dir, RunLock? runLock = null) => (Dir, _lock) = (dir, runLock);

    /// <summary>The folder.</summary>
    public string Dir { get; }

    public string Name => Path.GetFileName(Dir);
    public string ConfigPath => Path.Combine(Dir, ConfigFile);
    public string RunInfoPath => Path.Combine(Dir, RunInfoFile);
    public string MetricsPath => Path.Combine(Dir, MetricsFile);
    public string SummaryPath => Path.Combine(Dir, SummaryFile);
    public string CompletePath => Path.Combine(Dir, CompleteFile);
    public string PlotsDir => Path.Combine(Dir, "plots");

    /// <summary>True when the run finished (the COMPLETE marker exists).</summary>
    public bool IsComplete => File.Exists(CompletePath);

    /// <summary>
    /// Creates a new run folder under <paramref name="outDir"/> holding <paramref name="files"/> (name → content).
    /// Names never collide: a second run in the same second gets <c>_2</c>, <c>_3</c>, …
    /// </summary>
    public static RunFolder Create(string outDir, string expName, DateTime now, IReadOnlyDictionary<string, string> files)
    {
        string tmp = Path.Combine(outDir, StaleTemp.Name(expName));
        try
        {
            Directory.CreateDirectory(outDir);
            StaleTemp.Clean(outDir); // folders left by a run killed while creating its folder
            Directory.CreateDirectory(tmp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"run folders' parent {outDir} (log.out_dir, or --out): {WhyNotCreatable(outDir, e)}; expected a folder that can be created and written.", e);
        }
        // Locked before the rename (the lock follows the file), so no other process can open the new folder for writing first.
        RunLock? held = RunLock.Acquire(tmp);
        try
        {
            foreach (var (name, content) in files) File.WriteAllText(Path.Combine(tmp, name), content);
            string stamp = now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            for (int k = 1; k < 10_000; k++)
            {
                string target = Path.Combine(outDir, k == 1 ? $"{expName}_{stamp}" : $"{expName}_{stamp}_{k}");
                if (Directory.Exists(target) || File.Exists(target)) continue;
                try
                {
                    if (OperatingSystem.IsWindows()) { held?.Dispose(); held = null; } // Windows cannot rename a folder with an open file
                    Directory.Move(tmp, target); // rename(2): fails if another process took the name meanwhile
                    var folder = new RunFolder(Path.GetFullPath(target), held ?? RunLock.Acquire(target));
                    held = null;
                    return folder;
                }
                catch (IOException) when (Directory.Exists(target))
                {
                }
            }
            throw new IOException($"could not find a free run folder name for {expName}_{stamp} under {outDir}.");
        }
        finally
        {
            held?.Dispose();
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    /// <summary>Why <paramref name="dir"/> (or a folder in it) could not be created: a file in its place or in place of a
    /// parent, permission, or the system's own message.</summary>
    internal static string WhyNotCreatable(string dir, Exception e)
    {
        string full = Path.GetFullPath(dir);
        for (string? p = full; p is not null; p = Path.GetDirectoryName(p))
        {
            if (Directory.Exists(p)) break;
            if (File.Exists(p)) return p == full ? "is a file" : $"{p} is a file, not a folder";
        }
        return e is UnauthorizedAccessException ? "permission denied (" + e.Message + ")" : e.Message;
    }

    /// <summary>Opens an existing run folder (it must hold config.json) and takes its lock, for resuming it.</summary>
    /// <exception cref="IOException">Another live process is writing the folder (the message names it and the PID).</exception>
    public static RunFolder OpenForWriting(string dir)
    {
        var f = Open(dir);
        f._lock = RunLock.Acquire(f.Dir);
        return f;
    }

    /// <summary>Releases the folder's lock, if this object holds it.</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>Opens an existing run folder (it must hold config.json), without locking it (for reading).</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="InvalidDataException">Not a run folder.</exception>
    public static RunFolder Open(string dir)
    {
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"run folder not found: {dir}");
        var f = new RunFolder(Path.GetFullPath(dir));
        if (!File.Exists(f.ConfigPath))
            throw new InvalidDataException($"{dir} is not a run folder: it has no {ConfigFile}.");
        return f;
    }

    /// <summary>True when <paramref name="dir"/> looks like a run folder.</summary>
    public static bool IsRunFolder(string dir) => File.Exists(Path.Combine(dir, ConfigFile));

    /// <summary>A checkpoint: its folder, step and how many metric rows were written when it was taken.</summary>
    public sealed record Checkpoint(string Dir, int Step, int MetricRows, string ConfigHash);

    /// <summary>
    /// Writes a checkpoint atomically: <paramref name="save"/> fills a temporary folder, which is then
    /// renamed to <c>ckpt_stepNNNNNN</c>, and <c>latest</c> is updated.
    /// </summary>
    public Checkpoint SaveCheckpoint(int step, int metricRows, string configHash, Action<string> save)
    {
        string root = Path.Combine(Dir, CheckpointsDir);
        Directory.CreateDirectory(root);
        string tmp = Path.Combine(root, ".tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tmp);
        try
        {
            save(tmp);
            var info = new JsonObject
            {
                ["step"] = step,
                ["metric_rows"] = metricRows,
                ["config_hash"] = configHash,
                ["saved_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            };
            File.WriteAllText(Path.Combine(tmp, CheckpointInfoFile), info.ToJsonString());
            string name = CkptPrefix + step.ToString("D6", CultureInfo.InvariantCulture);
            string target = Path.Combine(root, name);
            if (Directory.Exists(target))
            {
                // Same step saved again (e.g. interrupted right after a periodic save, then resumed): replace it.
                string old = Path.Combine(root, ".old-" + Guid.NewGuid().ToString("N"));
                Directory.Move(target, old);
                Directory.Move(tmp, target);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(tmp, target);
            WriteAtomically(Path.Combine(root, "latest"), name + "\n");
            return new Checkpoint(target, step, metricRows, configHash);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }

    /// <summary>The newest complete checkpoint, or null. Folders under temporary names are ignored.</summary>
    public Checkpoint? LatestCheckpoint()
    {
        string root = Path.Combine(Dir, CheckpointsDir);
        if (!Directory.Exists(root)) return null;
        Checkpoint? best = null;
        foreach (var d in Directory.EnumerateDirectories(root, CkptPrefix + "*"))
        {
            string infoPath = Path.Combine(d, CheckpointInfoFile);
            if (!File.Exists(infoPath)) continue;
            JsonNode? info;
            try { info = JsonNode.Parse(File.ReadAllText(infoPath)); }
            catch (JsonException e) { throw new InvalidDataException($"checkpoint info {infoPath} is not valid JSON: {e.Message}", e); }
            int step = info?["step"]?.GetValue<int>() ?? throw new InvalidDataException($"checkpoint info {infoPath} has no step.");
            int rows = info["metric_rows"]?.GetValue<int>() ?? step;
            string hash = info["config_hash"]?.GetValue<string>() ?? "";
            if (best is null || step > best.Step) best = new Checkpoint(d, step, rows, hash);
        }
        return best;
    }

    /// <summary>Writes the COMPLETE marker (last thing a finished run does).</summary>
    public void MarkComplete(JsonObject info) => WriteAtomically(CompletePath, info.ToJsonString() + "\n");

    /// <summary>Reads run.json (null when absent or unreadable).</summary>
    public JsonObject? ReadRunInfo()
    {
        try { return File.Exists(RunInfoPath) ? JsonNode.Parse(File.ReadAllText(RunInfoPath)) as JsonObject : null; }
        catch (JsonException) { return null; }
    }

    /// <summary>Writes <paramref name="content"/> to a temporary file beside <paramref name="path"/> and renames it over it.</summary>
    public static void WriteAtomically(string path, string content)
    {
        string tmp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(tmp, content);
        File.Move(tmp, path, overwrite: true);
    }
}
