//! Assignment: which track takes which detection, by the Hungarian (Kuhn–Munkres) algorithm.
//!
//! [`Hungarian`] is the shortest-augmenting-path form with row and column potentials, O(n²m)
//! for `n ≤ m`. A wider-than-tall matrix is solved as its transpose, through an index flip
//! rather than a copy. Every buffer is allocated in [`Hungarian::new`] for the largest matrix
//! the caller will pose, so [`Hungarian::solve`] never allocates.
//!
//! # The cost gate
//! A tracker must be able to leave a track and a detection unmatched when they are too far
//! apart. With a gate `g`, the solver minimises `Σ cost(matched) + g · (pairs left unmatched)`,
//! the objective `lap.lapjv(cost_limit=g)` uses in ByteTrack. That is the same as solving a full
//! assignment on `min(cost, g)` and then dropping the pairs at or above `g`: such a pair costs
//! exactly what leaving both unmatched costs, so clipping never changes the optimum.

/// A reusable assignment solver for up to `max_rows × max_cols` costs.
///
/// The caller writes costs into [`costs_mut`](Self::costs_mut) (row-major), calls
/// [`solve`](Self::solve), then reads [`row_match`](Self::row_match) and
/// [`col_match`](Self::col_match) until the next `costs_mut`.
#[derive(Debug, Clone)]
pub struct Hungarian {
    max_rows: usize,
    max_cols: usize,
    rows: usize,
    cols: usize,
    cost: Vec<f32>,
    // The working problem is `n × m` with `n ≤ m`, 1-based as in the textbook form; index 0 is
    // the virtual start column.
    u: Vec<f64>,
    v: Vec<f64>,
    p: Vec<usize>,
    way: Vec<usize>,
    minv: Vec<f64>,
    used: Vec<bool>,
    row_to_col: Vec<Option<usize>>,
    col_to_row: Vec<Option<usize>>,
}

impl Hungarian {
    /// A solver for matrices up to `max_rows × max_cols` (either way round).
    pub fn new(max_rows: usize, max_cols: usize) -> Self {
        let big = max_rows.max(max_cols) + 1;
        Self {
            max_rows,
            max_cols,
            rows: 0,
            cols: 0,
            cost: vec![0.0; max_rows * max_cols],
            u: vec![0.0; big],
            v: vec![0.0; big],
            p: vec![0; big],
            way: vec![0; big],
            minv: vec![0.0; big],
            used: vec![false; big],
            row_to_col: vec![None; max_rows],
            col_to_row: vec![None; max_cols],
        }
    }

    /// Sets the problem's size and returns its `rows × cols` costs, row-major, to fill.
    ///
    /// # Panics
    /// If the size exceeds what the solver was built for: that is a bug in the caller, which
    /// sizes both from the same configuration.
    pub fn costs_mut(&mut self, rows: usize, cols: usize) -> &mut [f32] {
        assert!(
            rows <= self.max_rows && cols <= self.max_cols,
            "{rows}×{cols} exceeds the solver's {}×{}",
            self.max_rows,
            self.max_cols
        );
        self.rows = rows;
        self.cols = cols;
        &mut self.cost[..rows * cols]
    }

    /// Solves the posed problem; pairs whose cost is `>= gate` are left unmatched.
    /// Returns the number of matched pairs.
    pub fn solve(&mut self, gate: f32) -> usize {
        let (rows, cols) = (self.rows, self.cols);
        self.row_to_col[..rows].fill(None);
        self.col_to_row[..cols].fill(None);
        if rows == 0 || cols == 0 {
            return 0;
        }
        let transposed = rows > cols;
        let (n, m) = if transposed {
            (cols, rows)
        } else {
            (rows, cols)
        };
        let cost = &self.cost;
        // The clipped cost of working row `i`, column `j` (both 1-based).
        let c = |i: usize, j: usize| -> f64 {
            let (r, k) = if transposed { (j, i) } else { (i, j) };
            f64::from(cost[(r - 1) * cols + (k - 1)].min(gate))
        };
        let (u, v, p, way, minv, used) = (
            &mut self.u[..=m],
            &mut self.v[..=m],
            &mut self.p[..=m],
            &mut self.way[..=m],
            &mut self.minv[..=m],
            &mut self.used[..=m],
        );
        u.fill(0.0);
        v.fill(0.0);
        p.fill(0);
        way.fill(0);
        for i in 1..=n {
            p[0] = i;
            let mut j0 = 0;
            minv.fill(f64::INFINITY);
            used.fill(false);
            loop {
                used[j0] = true;
                let i0 = p[j0];
                let mut delta = f64::INFINITY;
                let mut j1 = 0;
                for j in 1..=m {
                    if !used[j] {
                        let cur = c(i0, j) - u[i0] - v[j];
                        if cur < minv[j] {
                            minv[j] = cur;
                            way[j] = j0;
                        }
                        if minv[j] < delta {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }
                for j in 0..=m {
                    if used[j] {
                        u[p[j]] += delta;
                        v[j] -= delta;
                    } else {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
                if p[j0] == 0 {
                    break;
                }
            }
            // Augment along the path back to the start.
            loop {
                let j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
                if j0 == 0 {
                    break;
                }
            }
        }
        let mut matched = 0;
        for (j, &i) in p.iter().enumerate().skip(1) {
            if i == 0 {
                continue;
            }
            let (r, k) = if transposed { (j, i) } else { (i, j) };
            if self.cost[(r - 1) * cols + (k - 1)] < gate {
                self.row_to_col[r - 1] = Some(k - 1);
                self.col_to_row[k - 1] = Some(r - 1);
                matched += 1;
            }
        }
        matched
    }

    /// The column matched to `row` by the last solve.
    pub fn row_match(&self, row: usize) -> Option<usize> {
        self.row_to_col[..self.rows][row]
    }

    /// The row matched to `col` by the last solve.
    pub fn col_match(&self, col: usize) -> Option<usize> {
        self.col_to_row[..self.cols][col]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathfinding::prelude::{kuhn_munkres_min, Matrix};

    /// A small deterministic generator (SplitMix64), so failures replay.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// `kuhn_munkres_min`'s optimum of `rows × cols` integer costs (it needs rows ≤ cols, so a
    /// tall matrix is transposed).
    fn reference_total(costs: &[i64], rows: usize, cols: usize) -> i64 {
        let (n, m, t) = if rows <= cols {
            (rows, cols, false)
        } else {
            (cols, rows, true)
        };
        let mut w = Matrix::new(n, m, 0i64);
        for i in 0..n {
            for j in 0..m {
                w[(i, j)] = if t {
                    costs[j * cols + i]
                } else {
                    costs[i * cols + j]
                };
            }
        }
        kuhn_munkres_min(&w).0
    }

    /// Checks the solver's matching is a valid one-to-one map and returns its clipped total.
    fn our_total(h: &Hungarian, costs: &[i64], rows: usize, cols: usize, gate: i64) -> i64 {
        let mut total = 0;
        let mut matched = 0;
        for r in 0..rows {
            if let Some(c) = h.row_match(r) {
                assert_eq!(h.col_match(c), Some(r));
                assert!(costs[r * cols + c] < gate);
                total += costs[r * cols + c];
                matched += 1;
            }
        }
        // Every pair left unmatched is charged the gate, like a match at the gate.
        total + gate * (rows.min(cols) - matched) as i64
    }

    #[test]
    fn agrees_with_kuhn_munkres_on_random_matrices() {
        let mut rng = Rng(7);
        let mut h = Hungarian::new(12, 12);
        for case in 0..600 {
            let rows = 1 + rng.below(12) as usize;
            let cols = 1 + rng.below(12) as usize;
            let costs: Vec<i64> = (0..rows * cols).map(|_| rng.below(1000) as i64).collect();
            // Half the cases ungated (gate above every cost), half gated.
            let gate = if case % 2 == 0 {
                10_000
            } else {
                200 + rng.below(600) as i64
            };
            let dst = h.costs_mut(rows, cols);
            for (d, &c) in dst.iter_mut().zip(&costs) {
                *d = c as f32;
            }
            h.solve(gate as f32);
            let clipped: Vec<i64> = costs.iter().map(|&c| c.min(gate)).collect();
            let want = reference_total(&clipped, rows, cols);
            let got = our_total(&h, &costs, rows, cols, gate);
            assert_eq!(got, want, "case {case}: {rows}×{cols} gate {gate}");
        }
    }

    #[test]
    fn a_gate_leaves_far_pairs_unmatched() {
        let mut h = Hungarian::new(3, 3);
        h.costs_mut(2, 3)
            .copy_from_slice(&[0.1, 0.9, 0.95, 0.9, 0.97, 0.2]);
        assert_eq!(h.solve(0.8), 2);
        assert_eq!(h.row_match(0), Some(0));
        assert_eq!(h.row_match(1), Some(2));
        assert_eq!(h.col_match(1), None);
        // The same costs with a tighter gate: only the best pair survives.
        h.costs_mut(2, 3)
            .copy_from_slice(&[0.1, 0.9, 0.95, 0.9, 0.97, 0.2]);
        assert_eq!(h.solve(0.15), 1);
        assert_eq!(h.row_match(1), None);
    }

    #[test]
    fn tall_and_empty_problems() {
        let mut h = Hungarian::new(4, 4);
        // 3 rows, 1 column: the cheapest row wins.
        h.costs_mut(3, 1).copy_from_slice(&[0.5, 0.1, 0.3]);
        assert_eq!(h.solve(1.0), 1);
        assert_eq!(h.col_match(0), Some(1));
        assert_eq!((h.row_match(0), h.row_match(2)), (None, None));
        h.costs_mut(0, 4);
        assert_eq!(h.solve(1.0), 0);
    }

    #[test]
    fn solving_does_not_allocate() {
        let mut h = Hungarian::new(20, 20);
        let mut rng = Rng(3);
        for c in h.costs_mut(15, 20) {
            *c = rng.below(100) as f32 / 100.0;
        }
        let (n, allocs) = crate::alloc_count::count(|| h.solve(0.8));
        assert!(n > 0);
        assert_eq!(allocs, 0);
    }
}
