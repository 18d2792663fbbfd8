using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Glass.Kernels.Device;
using Glass.Models.Gw;
using Glass.Models.Metrics;
using Glass.Runner.Output;

namespace Glass.Runner.Commands;

/// <summary><c>glass align</c>: metrics and the output folder.</summary>
internal static partial class AlignCommand
{
    private static void Write(AlignInputs a, AlignOutcome o, ComputeDevice dev, Stopwatch total, TextWriter stdout, TextWriter stderr)
    {
        var (r, trained, al) = (a.R, o.Trained, o.Al);
        int n = a.Xs.Rows, m = a.Ys.Rows, d = trained.DimY;
        var xAligned = al.ProjectionTarget!;
        var yAligned = trained.NormalizationY.Apply(a.Ys.Data, m, d, r.Y);
        var metrics = new JsonObject
        {
            ["mode"] = o.Trainer is null ? "model" : "train",
            ["x"] = a.Spec.X, ["y"] = a.Spec.Y, ["n"] = n, ["m"] = m, ["dim_x"] = a.Xs.Cols, ["dim_y"] = a.Ys.Cols,
            ["aligned_dim"] = d, ["space"] = "y_normalized",
        };
        if (a.ModelFile is not null) metrics["model"] = a.ModelFile;
        FoscttmResult? fos = null;
        double? fosUnanchored = null;
        if (r.Paired)
        {
            fos = AlignmentMetrics.Foscttm(xAligned, yAligned, n, d);
            metrics["foscttm"] = JsonText.Number(fos.Mean);
            if (a.Options.KnownPairs is { Count: > 0 } kp)
            {
                // FOSCTTM on the rows that no known pair touches (AlignmentMetrics.UnanchoredRows); null when every row is anchored.
                var free = AlignmentMetrics.UnanchoredRows(n, kp);
                fosUnanchored = free.Length == 0 ? null : AlignmentMetrics.Foscttm(xAligned, yAligned, n, d, free).Mean;
                metrics["foscttm_unanchored"] = fosUnanchored is { } fu ? JsonText.Number(fu) : null;
                metrics["unanchored_rows"] = free.Length;
            }
        }
        if (a.Lx is not null && a.Ly is not null)
            metrics["label_transfer"] = JsonText.Number(AlignmentMetrics.LabelTransferAccuracy(yAligned, a.Ly, xAligned, a.Lx, d, Math.Min(5, m)));
        var (gw, gwNote) = o.Solved is not null ? (o.Solved.GwLoss, (string?)null) : GwLoss(dev, o.Trainer, trained, a.Options, a.Xs, a.Ys, al.Gamma, r);
        metrics["gw_loss"] = gw is { } g ? JsonText.Number(g) : null;
        if (gwNote is not null) metrics["gw_loss_note"] = gwNote;
        if (gw is null && gwNote is not null) stderr.WriteLine("note: gw_loss " + gwNote);
        AddRunMetrics(metrics, a, o);
        metrics["device"] = dev.ShortName;
        // The reference of --rows: the potential g of this alignment's Sinkhorn on the embeddings (solved here when the plan came from the GW solver).
        var reference = al.G is { } gpot ? GwReference.FromSolve(trained, a.Ys.Data, m, al.Gamma, gpot, r.Y)
            : GwReference.Solve(dev, trained, a.Xs.Data, n, a.Ys.Data, m, r.X, r.Y);

        using var folder = AlignFolder.Begin(r.Out);
        trained.Save(folder.PathOf("model"));
        reference.Save(folder.PathOf("model"));
        File.WriteAllText(Path.Combine(folder.PathOf("model"), ConfigFile), a.Resolved.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        folder.WriteAlignment(al);
        folder.WriteMatrix("x_aligned", xAligned, n, d);
        folder.WriteMatrix("y_aligned", yAligned, m, d);
        if (o.History.Count > 0) WriteHistory(folder.PathOf("train_history.csv"), o.History);
        if (r.Plots) folder.WritePlots(xAligned, n, yAligned, m, d, a.Lx, a.Ly, fos?.SortedCurve());
        metrics["seconds"] = total.Elapsed.TotalSeconds;
        WriteH5ad(a, o, folder, xAligned, yAligned, d, metrics);
        metrics["config"] = a.Resolved;
        folder.WriteMetrics(metrics);
        folder.Commit();
        var (opt, solved) = (a.Options, o.Solved);
        string summary = string.Create(CultureInfo.InvariantCulture,
            $"glass align: → {folder.Target} ({n}↔{m} rows; {(solved is null ? $"sinkhorn {al.Iterations} iterations" : $"plan of {(solved.Source == "model" ? "the model" : solved.Solution.Selected)}, smoothing {solved.Solution.Smoothing}")}{(fos is null ? "" : $"; FOSCTTM {fos.Mean:F4}")}{(fosUnanchored is { } fu2 ? $" (unanchored {fu2:F4})" : "")}{(gw is { } gg ? $"; GW loss {gg:G4}" : "")}{(a.KnownCount > 0 ? $"; {a.KnownCount} known pairs, weight {opt.SupervisedWeight:G4}" : "")}{(opt.FusedWeight > 0 ? $"; fused weight {opt.FusedWeight:G4}" : "")}; {total.Elapsed.TotalSeconds:F1} s)");
        stdout.WriteLine(summary);
    }

    /// <summary>The solver stage or the Sinkhorn of the alignment, training, extension terms and restarts.</summary>
    private static void AddRunMetrics(JsonObject metrics, AlignInputs a, AlignOutcome o)
    {
        var (al, trained, options) = (o.Al, o.Trained, a.Options);
        if (o.Solved is { } solved)
        {
            // The solver stage: every candidate's GW loss, the winner, its smoothing, and the trained model's own plan.
            var sol = solved.Solution;
            metrics["init"] = "solver";
            metrics["plan_source"] = solved.Source;
            metrics["selected"] = sol.Selected;
            metrics["selected_gw_loss"] = JsonText.Number(sol.SelectedLoss);
            metrics["smoothing"] = sol.Smoothing;
            metrics["candidates"] = new JsonArray(solved.Candidates.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name, ["gw_loss"] = JsonText.Number(c.GwLoss), ["iterations"] = c.Iterations, ["seconds"] = c.Seconds,
            }).ToArray());
            metrics["model_gw_loss"] = JsonText.Number(solved.ModelLoss);
            metrics["solve_seconds"] = sol.Seconds;
            metrics["marginal_error"] = JsonText.Number(al.MarginalError);
            metrics["epsilon"] = trained.Epsilon;
        }
        else
        {
            if (o.Trainer is not null) metrics["init"] = "none";
            metrics["sinkhorn_iterations"] = al.Iterations;
            metrics["sinkhorn_converged"] = al.Converged;
            metrics["marginal_error"] = JsonText.Number(al.MarginalError);
            metrics["epsilon"] = trained.Epsilon;
            metrics["gamma"] = al.Gamma;
        }
        metrics["align_seconds"] = al.Seconds;
        metrics["train_seconds"] = o.TrainSeconds;
        if (o.Last is { } last) { metrics["train_steps"] = last.Step; metrics["final_loss"] = JsonText.Number(last.Loss); }
        if (o.RunResult is null && o.Solved is null) return;
        metrics["known_pairs"] = a.KnownCount;
        metrics["supervised_weight"] = options.SupervisedWeight;
        metrics["fused_weight"] = options.FusedWeight;
        if (a.Ext.Pairs is not null) metrics["known_pairs_file"] = a.Ext.Pairs;
        if (a.Ext.FusedX is not null) { metrics["fused_x"] = a.Ext.FusedX; metrics["fused_y"] = a.Ext.FusedY; }
        if (o.RunResult is { } run)
        {
            var ro = a.Restarts;
            metrics["restarts"] = ro.Restarts;
            metrics["restart_steps"] = ro.RestartSteps;
            metrics["selection"] = ro.Restarts > 1 ? ro.SelectionName : null;
            metrics["restart_seeds"] = new JsonArray(run.Seeds.Select(v => (JsonNode)v).ToArray());
            metrics["restart_scores"] = new JsonArray(run.Scores.Select(JsonText.Number).ToArray());
            metrics["selected_seed"] = run.SelectedSeed;
        }
    }
}
