namespace Glass.Kernels.Exact;

/// <summary>
/// Rectangular linear assignment by shortest augmenting paths (Jonker &amp; Volgenant 1987 in the form of Crouse 2016,
/// "On implementing 2D rectangular assignment algorithms" — the algorithm of SciPy's <c>linear_sum_assignment</c>):
/// for n ≤ m, min Σ_i C[i, σ(i)] over injective σ: [n] → [m]. One Dijkstra-like search per row on reduced costs
/// C_ij − u_i − v_j ≥ 0, stopped at the first free column; duals (u, v) certify optimality. O(n²m) worst case, far
/// less when the searches end early. Sequential, managed CPU only.
/// </summary>
internal static class LinearAssignment
{
    /// <summary>
    /// σ with σ(i) the column of row i, for the n×m row-major <paramref name="cost"/> with n ≤ m; also the duals.
    /// Ties are broken towards a free column (SciPy's rule: a constant matrix gives the identity).
    /// </summary>
    public static (int[] ColOfRow, double[] U, double[] V) Solve(ReadOnlySpan<double> cost, int n, int m)
    {
        if (n > m) throw new ArgumentException($"LinearAssignment: n = {n} rows > m = {m} columns; expected n ≤ m.");
        var u = new double[n];
        var v = new double[m];
        var shortest = new double[m];
        var path = new int[m];
        var colOfRow = new int[n];
        var rowOfCol = new int[m];
        var remaining = new int[m];
        Array.Fill(colOfRow, -1);
        Array.Fill(rowOfCol, -1);
        var visitedRows = new List<int>(n);
        var visitedCols = new List<int>(m);
        if (n == m) ReduceColumns(cost, n, m, v, colOfRow, rowOfCol);
        for (int cur = 0; cur < n; cur++)
        {
            if (colOfRow[cur] >= 0) continue;
            // Shortest augmenting path from row cur to a free column.
            int left = m;
            for (int t = 0; t < m; t++) remaining[t] = m - 1 - t;
            visitedRows.Clear(); visitedCols.Clear();
            Array.Fill(shortest, double.PositiveInfinity);
            double minVal = 0;
            int i = cur, sink = -1;
            while (sink < 0)
            {
                visitedRows.Add(i);
                int index = -1;
                double lowest = double.PositiveInfinity;
                var row = cost.Slice(i * m, m);
                double ui = u[i];
                for (int t = 0; t < left; t++)
                {
                    int j = remaining[t];
                    double r = minVal + row[j] - ui - v[j];
                    if (r < shortest[j]) { path[j] = i; shortest[j] = r; }
                    double s = shortest[j];
                    if (s < lowest || (s == lowest && rowOfCol[j] < 0))
                    {
                        lowest = s; index = t;
                    }
                }
                if (index < 0 || double.IsPositiveInfinity(lowest))
                    throw new InvalidOperationException("LinearAssignment: no augmenting path (non-finite costs).");
                minVal = lowest;
                int jj = remaining[index];
                if (rowOfCol[jj] < 0) sink = jj; else i = rowOfCol[jj];
                visitedCols.Add(jj);
                remaining[index] = remaining[--left];
            }
            // Dual update.
            u[cur] += minVal;
            foreach (int r in visitedRows)
                if (r != cur) u[r] += minVal - shortest[colOfRow[r]];
            foreach (int c in visitedCols) v[c] -= minVal - shortest[c];
            // Augment along the path.
            int col = sink;
            while (true)
            {
                int r = path[col];
                rowOfCol[col] = r;
                (colOfRow[r], col) = (col, colOfRow[r]);
                if (r == cur) break;
            }
        }
        return (colOfRow, u, v);
    }

    /// <summary>
    /// Column reduction (Jonker &amp; Volgenant's initialisation): v_j = min_i C_ij keeps C − u − v ≥ 0 with u = 0, and
    /// each column's minimising row takes it when that row is still free — a partial assignment on tight edges, from
    /// which the augmenting searches start (most rows of a well-conditioned cost are placed here).
    /// </summary>
    private static void ReduceColumns(ReadOnlySpan<double> cost, int n, int m, double[] v, int[] colOfRow, int[] rowOfCol)
    {
        for (int j = 0; j < m; j++)
        {
            double best = double.PositiveInfinity;
            int arg = -1;
            for (int i = 0; i < n; i++) { double c = cost[i * m + j]; if (c < best) { best = c; arg = i; } }
            v[j] = best;
            if (arg >= 0 && colOfRow[arg] < 0) { colOfRow[arg] = j; rowOfCol[j] = arg; }
        }
    }
}
