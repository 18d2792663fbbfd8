"""Does SNARE-seq carry cell correspondence *inside* a cell line that a GW method could find?

Diagnostic for docs/reproduction.md (learned GW on SNARE-seq, "why 0.14 is out of reach"). Uses the labels on
purpose: it is an oracle analysis, not a method. For each of the 4 cell lines separately it
  1. solves entropic GW (POT, Euclidean distances of the L2-normalised rows, max-normalised) between that line's
     ATAC and RNA cells and reports the within-line FOSCTTM of the barycentric projection (0.5 = chance);
  2. compares the GW loss of the TRUE within-line pairing (identity permutation) with that of the GW plan rounded to a
     permutation (Hungarian on the plan) and of random permutations (mean of 20), and reports the correlation of the
     true pairs' distances: the truth beats random pairings (there is signal) but if it scores far worse than the GW
     permutation, the GW objective itself prefers a wrong pairing inside the line;
  3. fits CCA on half of the line's true pairs and reports the held-out canonical correlation of the first two
     components, true pairs vs the same cells shuffled (is there any linear within-line signal at all?).
It then assembles the four within-line plans into one block plan (true lines, GW inside) and reports its FOSCTTM
over all 1,047 cells, next to the uniform-within-line oracle.

Run: /usr/bin/python3 bench/snare_within_line.py [path/to/shared/data/snareseq]
Needs Debian's python3-pot (numpy, POT 0.8.2) and python3-sklearn.
"""
import sys
import numpy as np
import ot
from scipy.optimize import linear_sum_assignment
from sklearn.cross_decomposition import CCA

d = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/snareseq'
X = np.load(f'{d}/SNAREseq_atac_feat.npy'); Y = np.load(f'{d}/SNAREseq_rna_feat.npy')
lx = np.loadtxt(f'{d}/SNAREseq_atac_types.txt'); ly = np.loadtxt(f'{d}/SNAREseq_rna_types.txt')
assert (lx == ly).all() and len(X) == len(Y)
X = X / np.linalg.norm(X, axis=1, keepdims=True); Y = Y / np.linalg.norm(Y, axis=1, keepdims=True)
n = len(X)


def foscttm(U, V, jitter=0.0, seed=0):
    if jitter > 0:  # break ties between identical projections (strict "<" of the definition)
        U = U + jitter * np.random.default_rng(seed).standard_normal(U.shape)
    D = ((U[:, None, :] - V[None, :, :]) ** 2).sum(-1); k = len(U)
    p = (D < np.diag(D)[:, None]).sum(1) / k; q = (D < np.diag(D)[None, :]).sum(0) / k
    return (p.mean() + q.mean()) / 2


def gw_loss(Dx, Dy, T):
    # sum_ijkl (Dx_ik - Dy_jl)^2 T_ij T_kl
    a, b = T.sum(1), T.sum(0)
    return float(a @ (Dx ** 2) @ a + b @ (Dy ** 2) @ b - 2 * np.sum(Dx @ T @ Dy * T))


rng = np.random.default_rng(0)
block = np.zeros((n, n)); uniform = np.zeros((n, n))
print('line  cells  eps    within-line FOSCTTM  GW(plan)  GW(plan->perm)  GW(truth)  GW(random perm)  corr(Dx,Dy|truth)  CCA held-out r1,r2 (true | shuffled)')
for c in np.unique(lx):
    idx = np.where(lx == c)[0]; k = len(idx)
    Dx = ot.dist(X[idx], X[idx], metric='euclidean'); Dy = ot.dist(Y[idx], Y[idx], metric='euclidean')
    Dx /= Dx.max(); Dy /= Dy.max()
    h = k // 2; perm = rng.permutation(k); tr, te = perm[:h], perm[h:]
    cca = CCA(n_components=2, max_iter=3000).fit(X[idx][tr], Y[idx][tr])
    a1, b1 = cca.transform(X[idx][te], Y[idx][te]); sh = rng.permutation(len(te)); a2, b2 = cca.transform(X[idx][te], Y[idx][te][sh])
    r_true = [np.corrcoef(a1[:, j], b1[:, j])[0, 1] for j in range(2)]
    r_shuf = [np.corrcoef(a2[:, j], b2[:, j])[0, 1] for j in range(2)]
    truth = np.eye(k) / k
    g_rand = np.mean([gw_loss(Dx, Dy, np.eye(k)[rng.permutation(k)] / k) for _ in range(20)])
    corr = np.corrcoef(Dx.ravel(), Dy.ravel())[0, 1]
    best = None
    for eps in [5e-3, 1e-3]:
        T = ot.gromov.entropic_gromov_wasserstein(Dx, Dy, ot.unif(k), ot.unif(k), 'square_loss', epsilon=eps, max_iter=500)
        U = (T @ Y[idx]) / T.sum(1, keepdims=True)
        f = foscttm(U, Y[idx]); g = gw_loss(Dx, Dy, T)
        r, cc = linear_sum_assignment(-T); Pm = np.zeros((k, k)); Pm[r, cc] = 1.0 / k
        print(f'{int(c):4d}  {k:5d}  {eps:.0e}  {f:19.4f}  {g:8.5f}  {gw_loss(Dx, Dy, Pm):14.5f}  {gw_loss(Dx, Dy, truth):9.5f}  '
              f'{g_rand:15.5f}  {corr:17.3f}  {r_true[0]:.2f},{r_true[1]:.2f} | {r_shuf[0]:.2f},{r_shuf[1]:.2f}')
        if best is None or g < best[0]:
            best = (g, T)
    block[np.ix_(idx, idx)] = best[1] * k / n
    uniform[np.ix_(idx, idx)] = 1.0 / (k * n)
for name, P in [('uniform within each true line (oracle)', uniform), ('entropic GW within each true line (oracle)', block)]:
    U = (P @ Y) / P.sum(1, keepdims=True)
    print(f'{name}: FOSCTTM {foscttm(U, Y, jitter=1e-6):.4f}')
