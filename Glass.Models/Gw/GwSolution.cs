using System.Diagnostics;
using System.Globalization;
using Glass.Kernels.Device;
using Glass.Kernels.Sinkhorn;

namespace Glass.Models.Gw;

/// <summary>One start of <see cref="GwAligner"/> and where it ended.</summary>
/// <param name="Name">"product" (conditional gradient from abᵀ), "entropic(ε)" (from the entropic-GW plan at relative ε) or "model" (the trained model's own entropic plan).</param>
/// <param name="GwLoss">GW loss of the candidate's final plan on D_X, D_Y.</param>
/// <param name="Iterations">Conditional-gradient iterations (0 for "model").</param>
/// <param name="Seconds">Wall time of the candidate (its start included).</param>
public sealed record GwCandidate(string Name, double GwLoss, int Iterations, double Seconds);

/// <summary>What the solver stage (<see cref="GwAligner.Solve"/>) returns.</summary>
/// <param name="Plan">The solver's coupling Π (n×m row-major, marginals 1/n, 1/m): the selected candidate after smoothing.</param>
/// <param name="N">Rows.</param>
/// <param name="M">Columns.</param>
/// <param name="GwLoss">GW loss of <see cref="Plan"/> on D_X, D_Y.</param>
/// <param name="Selected">Name of the selected candidate (the lowest GW loss; the first on ties).</param>
/// <param name="SelectedPlan">The selected candidate's own plan Π* (before smoothing; a vertex of U(a, b) when the conditional gradient ended on one).</param>
/// <param name="SelectedLoss">L(Π*).</param>
/// <param name="Smoothing">How Π* was smoothed: "none", "entropic(ε)" or "mix(α, ε)" (<see cref="GwSolverOptions.Discrepancy"/>).</param>
/// <param name="Candidates">Every candidate, in the order tried.</param>
/// <param name="DistanceX">D_X (n×n) the solver used — also the training's.</param>
/// <param name="DistanceY">D_Y (m×m).</param>
/// <param name="Seconds">Wall time (distances included).</param>
public sealed record GwSolution(double[] Plan, int N, int M, double GwLoss, string Selected, double[] SelectedPlan, double SelectedLoss,
    string Smoothing, IReadOnlyList<GwCandidate> Candidates, double[] DistanceX, double[] DistanceY, double Seconds)
{
    /// <summary>The pseudo-pairs f, g are trained on: the row-wise argmax of Π* (every row of X once).</summary>
    public List<(int X, int Y)> PseudoPairs() => GwAligner.PseudoPairs(SelectedPlan, N, M);
}

/// <summary>What <see cref="GwAligner.Align"/> returns: the alignment of the given data and the trained model.</summary>
/// <param name="Plan">The coupling Π (n×m row-major): the solver's, or the model's own entropic plan when its GW loss is below the selected candidate's (before smoothing).</param>
/// <param name="GwLoss">GW loss of <see cref="Plan"/>.</param>
/// <param name="Source">"solver" or "model".</param>
/// <param name="Solution">The solver stage.</param>
/// <param name="ModelLoss">GW loss of the model's own entropic plan on the training data (the "model" candidate).</param>
/// <param name="Trainer">The trainer of f, g (its <see cref="LearnedGwTrainer.Model"/> aligns new data).</param>
/// <param name="History">Training steps of the model.</param>
/// <param name="TrainSeconds">Wall time of the training.</param>
public sealed record GwAlignment(double[] Plan, double GwLoss, string Source, GwSolution Solution, double ModelLoss, LearnedGwTrainer Trainer,
    IReadOnlyList<LearnedGwProgress> History, double TrainSeconds)
{
    /// <summary>Rows.</summary>
    public int N => Solution.N;
    /// <summary>Columns.</summary>
    public int M => Solution.M;

    /// <summary>Every candidate and the model's plan, as tried.</summary>
    public IReadOnlyList<GwCandidate> Candidates => Solution.Candidates.Append(new GwCandidate("model", ModelLoss, 0, 0)).ToList();

    /// <summary>Row-wise argmax of the plan (the first on ties).</summary>
    public int[] Matches() => GwAligner.PseudoPairs(Plan, N, M).Select(p => p.Y).ToArray();
}
