//! Plane geometry the rules need, in normalised frame coordinates: polygons (convex or concave)
//! with point-in-polygon and a self-intersection check, and segments with side tests.
//!
//! Everything here is plain arithmetic on `f32` with no allocation, so the hot thread may call it
//! for every track on every frame.

use picket_geom::NormPoint;

/// `(b - a) × (p - a)`: positive when `p` is on the *right* of a→b as drawn on the image (y
/// down), negative on its left, zero on the line.
///
/// With y pointing down, standing at `a` and looking towards `b`, the right hand points to the
/// side where this cross product is positive (for a→b pointing right, that is below the line).
pub fn cross(a: NormPoint, b: NormPoint, p: NormPoint) -> f32 {
    (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
}

/// Whether the closed segments p1–p2 and q1–q2 share a point.
pub fn segments_intersect(p1: NormPoint, p2: NormPoint, q1: NormPoint, q2: NormPoint) -> bool {
    let d1 = cross(q1, q2, p1);
    let d2 = cross(q1, q2, p2);
    let d3 = cross(p1, p2, q1);
    let d4 = cross(p1, p2, q2);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(q1, q2, p1))
        || (d2 == 0.0 && on_segment(q1, q2, p2))
        || (d3 == 0.0 && on_segment(p1, p2, q1))
        || (d4 == 0.0 && on_segment(p1, p2, q2))
}

/// For a point already known to be collinear with a–b: whether it lies within the segment.
fn on_segment(a: NormPoint, b: NormPoint, p: NormPoint) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// The longest polygon the config accepts; vertices live inline so zones need no heap.
pub const MAX_VERTICES: usize = 32;

/// A simple polygon (its edges do not cross), convex or concave, closed implicitly.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    vertices: heapless::Vec<NormPoint, MAX_VERTICES>,
}

/// Why a list of points is not a usable polygon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolygonError {
    #[error("polygon has {0} points (needs ≥ 3)")]
    TooFew(usize),
    #[error("polygon has {0} points (at most {MAX_VERTICES})")]
    TooMany(usize),
    #[error("polygon has no area (its points are on one line)")]
    Degenerate,
    #[error("polygon edges {0} and {1} cross (the outline intersects itself)")]
    SelfIntersecting(usize, usize),
}

impl Polygon {
    /// Builds a polygon, rejecting fewer than 3 points, zero area and self-intersection.
    pub fn new(points: &[NormPoint]) -> Result<Self, PolygonError> {
        let n = points.len();
        if n < 3 {
            return Err(PolygonError::TooFew(n));
        }
        let vertices = heapless::Vec::from_slice(points).map_err(|_| PolygonError::TooMany(n))?;
        let p = Polygon { vertices };
        if let Some((i, j)) = p.crossing_edges() {
            return Err(PolygonError::SelfIntersecting(i, j));
        }
        if p.area().abs() < 1e-9 {
            return Err(PolygonError::Degenerate);
        }
        Ok(p)
    }

    pub fn vertices(&self) -> &[NormPoint] {
        &self.vertices
    }

    fn edge(&self, i: usize) -> (NormPoint, NormPoint) {
        let n = self.vertices.len();
        (self.vertices[i], self.vertices[(i + 1) % n])
    }

    /// Signed area (shoelace formula); the sign gives the winding.
    pub fn area(&self) -> f32 {
        let n = self.vertices.len();
        (0..n)
            .map(|i| {
                let (a, b) = self.edge(i);
                a.x * b.y - b.x * a.y
            })
            .sum::<f32>()
            / 2.0
    }

    /// The first pair of non-adjacent edges that touch, if any (O(n²), at load time only).
    fn crossing_edges(&self) -> Option<(usize, usize)> {
        let n = self.vertices.len();
        for i in 0..n {
            for j in i + 1..n {
                let adjacent = j == i + 1 || (i == 0 && j == n - 1);
                if adjacent {
                    continue;
                }
                let (p1, p2) = self.edge(i);
                let (q1, q2) = self.edge(j);
                if segments_intersect(p1, p2, q1, q2) {
                    return Some((i, j));
                }
            }
        }
        None
    }

    /// Whether `p` is inside, by the even-odd ray cast. Works for concave polygons; a point
    /// exactly on an edge may fall either way, which the rules' hysteresis absorbs.
    pub fn contains(&self, p: NormPoint) -> bool {
        let n = self.vertices.len();
        let mut inside = false;
        let mut j = n - 1;
        for i in 0..n {
            let (vi, vj) = (self.vertices[i], self.vertices[j]);
            if (vi.y > p.y) != (vj.y > p.y) {
                let x = vj.x + (p.y - vj.y) * (vi.x - vj.x) / (vi.y - vj.y);
                if p.x < x {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(f32, f32)]) -> Vec<NormPoint> {
        v.iter().map(|&(x, y)| NormPoint::new(x, y)).collect()
    }

    /// A "U": two arms joined at the bottom, with a notch between them at the top.
    pub fn u_shape() -> Polygon {
        Polygon::new(&pts(&[
            (0.1, 0.1),
            (0.3, 0.1),
            (0.3, 0.6),
            (0.7, 0.6),
            (0.7, 0.1),
            (0.9, 0.1),
            (0.9, 0.9),
            (0.1, 0.9),
        ]))
        .unwrap()
    }

    #[test]
    fn concave_polygon_excludes_its_notch() {
        let u = u_shape();
        assert!(u.contains(NormPoint::new(0.2, 0.3)));
        assert!(u.contains(NormPoint::new(0.8, 0.3)));
        assert!(u.contains(NormPoint::new(0.5, 0.8)));
        assert!(
            !u.contains(NormPoint::new(0.5, 0.3)),
            "the notch is outside"
        );
        assert!(!u.contains(NormPoint::new(0.95, 0.5)));
    }

    #[test]
    fn bad_polygons_are_rejected() {
        assert_eq!(
            Polygon::new(&pts(&[(0.0, 0.0), (1.0, 1.0)])),
            Err(PolygonError::TooFew(2))
        );
        let bowtie = pts(&[(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]);
        assert!(matches!(
            Polygon::new(&bowtie),
            Err(PolygonError::SelfIntersecting(_, _))
        ));
        let flat = pts(&[(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]);
        assert_eq!(Polygon::new(&flat), Err(PolygonError::Degenerate));
    }

    #[test]
    fn side_of_a_segment_follows_the_image_axes() {
        let (a, b) = (NormPoint::new(0.0, 0.5), NormPoint::new(1.0, 0.5));
        assert!(
            cross(a, b, NormPoint::new(0.5, 0.9)) > 0.0,
            "below is right"
        );
        assert!(cross(a, b, NormPoint::new(0.5, 0.1)) < 0.0, "above is left");
        assert!(segments_intersect(
            a,
            b,
            NormPoint::new(0.5, 0.0),
            NormPoint::new(0.5, 1.0)
        ));
        assert!(!segments_intersect(
            a,
            b,
            NormPoint::new(0.5, 0.0),
            NormPoint::new(0.5, 0.4)
        ));
    }
}
