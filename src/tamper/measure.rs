//! The statistics of one luma grid against the learnt reference, and which reason they show.
//!
//! Everything is computed on the motion gate's grid of cell lumas (64×48 by default), in the
//! log domain: `L = ln(luma + K)`. A change of exposure or light level multiplies luma, which
//! only shifts `L`, so the differences between neighbouring cells, on which structure and
//! correlation are built, do not change as dusk falls or the camera switches to infrared.
//! `docs/design/tamper.md` gives the formulas and why each threshold.

/// The offset under the log: below about this many levels of luma, sensor and JPEG noise
/// dominate, and the offset keeps a dark frame's noise from looking like structure.
pub const K: f32 = 16.0;
/// A cell has structure when its log-luma gradient `|∂x L| + |∂y L|` exceeds this: a 5%
/// contrast step, well above a still camera's noise on a 16-sample cell mean.
pub const EDGE: f32 = 0.05;
/// Log gradients under this are taken for noise in the correlation: each is shrunk towards
/// zero by it, so a still camera's grain does not lower the match with the (averaged, grainless)
/// reference.
pub const GRAIN: f32 = 0.03;
/// A cell is saturated at this luma or above (a cell is the mean of 16 samples).
pub const SATURATED: f32 = 240.0;
/// Covered, not defocused, when the mean luma falls under this fraction of the reference's.
pub const DARK_RATIO: f32 = 0.5;
/// Covered, not defocused, when the spread of `L` across the frame is under this (a uniform
/// frame: a hand or a wall at the lens, paint, a grey card).
pub const UNIFORM: f32 = 0.08;
/// Below this reference structure there is nothing to compare with (the reference itself was
/// blank); only `blinded` and a uniform frame are judged.
pub const MIN_STRUCTURE: f32 = 0.02;

/// Why the view is tampered with: the event's `detail.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Little structure left, dark or uniform: a hand, tape, paint, a cap.
    Covered,
    /// Most of the frame saturated: a torch or a laser at the lens.
    Blinded,
    /// Structure as usual, but not the reference's: the camera was turned.
    Moved,
    /// Structure collapsed while the brightness holds: the lens was defocused or smeared.
    Defocused,
}

impl Reason {
    pub const ALL: [Reason; 4] = [
        Reason::Covered,
        Reason::Blinded,
        Reason::Moved,
        Reason::Defocused,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Covered => "covered",
            Reason::Blinded => "blinded",
            Reason::Moved => "moved",
            Reason::Defocused => "defocused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one grid shows, against the reference.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    /// Mean cell luma, 0..=255.
    pub mean: f32,
    /// The reference's mean luma.
    pub ref_mean: f32,
    /// Fraction of cells at [`SATURATED`] or above.
    pub saturated: f32,
    /// Standard deviation of `L` over the cells.
    pub spread: f32,
    /// Fraction of cells with a log gradient over [`EDGE`].
    pub structure: f32,
    /// The reference's structure.
    pub ref_structure: f32,
    /// Edge energy: the mean log gradient `|∂x L| + |∂y L|` over the cells.
    pub energy: f32,
    /// The reference's edge energy.
    pub ref_energy: f32,
    /// Correlation of the log-gradient field with the reference's, -1..=1 (1 when either is
    /// flat: nothing to disagree with).
    pub correlation: f32,
}

/// The thresholds a config sets; see `TamperConfig`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub blinded_fraction: f32,
    pub structure_ratio: f32,
    pub defocus_ratio: f32,
    pub moved_correlation: f32,
}

impl Stats {
    /// The reason these statistics show: the first that matches, in order of precedence blinded,
    /// covered, defocused, moved; `None` when none matches or the one that does is not
    /// `enabled` (a saturated frame is not judged for the others).
    pub fn reason(&self, t: &Thresholds, enabled: impl Fn(Reason) -> bool) -> Option<Reason> {
        let on = |r: Reason| enabled(r).then_some(r);
        if self.saturated >= t.blinded_fraction {
            return on(Reason::Blinded);
        }
        let uniform = self.spread < UNIFORM;
        if self.ref_structure < MIN_STRUCTURE {
            return if uniform { on(Reason::Covered) } else { None };
        }
        let collapsed = self.structure < t.structure_ratio * self.ref_structure;
        let dark = self.mean < DARK_RATIO * self.ref_mean;
        if collapsed && (uniform || dark) {
            return on(Reason::Covered);
        }
        if !dark && (collapsed || self.energy < t.defocus_ratio * self.ref_energy) {
            return on(Reason::Defocused);
        }
        if self.correlation < t.moved_correlation {
            return on(Reason::Moved);
        }
        None
    }
}

/// The log-luma grid of the current frame and of the reference, with the reference's
/// structure and brightness. Sized once; measuring never allocates.
#[derive(Debug)]
pub struct Grids {
    pub w: usize,
    pub h: usize,
    lut: Vec<f32>,
    log: Vec<f32>,
    reference: Vec<f32>,
    ref_structure: f32,
    ref_energy: f32,
    ref_mean: f32,
    learnt: bool,
}

impl Grids {
    pub fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            lut: (0..256).map(|v| (v as f32 + K).ln()).collect(),
            log: vec![0.0; w * h],
            reference: vec![0.0; w * h],
            ref_structure: 0.0,
            ref_energy: 0.0,
            ref_mean: 0.0,
            learnt: false,
        }
    }

    /// Forgets the reference: the next grid measured becomes it.
    pub fn reset(&mut self) {
        self.learnt = false;
    }

    /// Measures `cells` (`w`×`h` lumas, row-major) against the reference. The first grid
    /// measured (after [`Grids::new`] or [`Grids::reset`]) becomes the reference.
    pub fn measure(&mut self, cells: &[f32]) -> Stats {
        let n = self.w * self.h;
        let cells = &cells[..n];
        let (mut sum, mut sat, mut lsum, mut lsq) = (0.0f32, 0usize, 0.0f32, 0.0f32);
        for (l, &c) in self.log.iter_mut().zip(cells) {
            sum += c;
            sat += usize::from(c >= SATURATED);
            let v = self.lut[c.clamp(0.0, 255.0) as usize];
            *l = v;
            lsum += v;
            lsq += v * v;
        }
        let nf = n as f32;
        let lmean = lsum / nf;
        let spread = (lsq / nf - lmean * lmean).max(0.0).sqrt();
        let mean = sum / nf;
        let g = self.gradients();
        let inner = ((self.w - 1) * (self.h - 1)) as f32;
        let structure = g.active as f32 / inner;
        let energy = g.l1 / inner;
        if !self.learnt {
            self.reference.copy_from_slice(&self.log);
            self.ref_structure = structure;
            self.ref_energy = energy;
            self.ref_mean = mean;
            self.learnt = true;
        }
        let (dot, cur2, ref2) = (g.dot, g.cur2, g.ref2);
        let correlation = if cur2 > 0.0 && ref2 > 0.0 {
            dot / (cur2 * ref2).sqrt()
        } else {
            1.0
        };
        Stats {
            mean,
            ref_mean: self.ref_mean,
            saturated: sat as f32 / nf,
            spread,
            structure,
            ref_structure: self.ref_structure,
            energy,
            ref_energy: self.ref_energy,
            correlation,
        }
    }

    /// Folds the last grid measured into the reference with weight `alpha` (0..=1).
    pub fn learn(&mut self, stats: &Stats, alpha: f32) {
        for (r, l) in self.reference.iter_mut().zip(&self.log) {
            *r += alpha * (l - *r);
        }
        self.ref_structure += alpha * (stats.structure - self.ref_structure);
        self.ref_energy += alpha * (stats.energy - self.ref_energy);
        self.ref_mean += alpha * (stats.mean - self.ref_mean);
    }

    /// One pass over the inner cells: how many have structure, their edge energy, and the dot
    /// product of the log gradients with the reference's, with both squared norms. Before the
    /// first reference the correlation terms are those of the grid with itself.
    fn gradients(&self) -> Gradients {
        let (w, l) = (self.w, &self.log);
        let r = if self.learnt { &self.reference } else { l };
        let mut g = Gradients::default();
        for y in 0..self.h - 1 {
            let row = y * w;
            for i in row..row + w - 1 {
                let (gx, gy) = (l[i + 1] - l[i], l[i + w] - l[i]);
                let (rx, ry) = (r[i + 1] - r[i], r[i + w] - r[i]);
                let e = gx.abs() + gy.abs();
                g.active += usize::from(e > EDGE);
                g.l1 += e;
                let (gx, gy, rx, ry) = (shrink(gx), shrink(gy), shrink(rx), shrink(ry));
                g.dot += gx * rx + gy * ry;
                g.cur2 += gx * gx + gy * gy;
                g.ref2 += rx * rx + ry * ry;
            }
        }
        g
    }
}

/// `g` shrunk towards zero by [`GRAIN`].
#[inline(always)]
fn shrink(g: f32) -> f32 {
    g.signum() * (g.abs() - GRAIN).max(0.0)
}

/// Sums over the inner cells of a grid; see [`Grids::gradients`].
#[derive(Debug, Default)]
struct Gradients {
    active: usize,
    l1: f32,
    dot: f32,
    cur2: f32,
    ref2: f32,
}
