//! SSD anchor boxes, generated the way MediaPipe's `SsdAnchorsCalculator` does for the shipped
//! SSD MobileNetV2 (Open Images v4) model: 6 layers, 1917 anchors.

/// One anchor in normalised input coordinates: centre and size.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Anchor {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
}

/// The anchor settings. [`AnchorSpec::default`] is the shipped model's.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorSpec {
    pub input_size: u32,
    pub strides: Vec<u32>,
    pub min_scale: f32,
    pub max_scale: f32,
    pub aspect_ratios: Vec<f32>,
    /// The lowest layer has only 3 boxes: scale 0.1 at ratio 1, then ratios 2 and 0.5.
    pub reduce_boxes_in_lowest_layer: bool,
    /// Adds a box at ratio 1 and scale √(s·s_next) to every other layer.
    pub interpolated_scale: bool,
    pub offset: f32,
}

impl Default for AnchorSpec {
    fn default() -> Self {
        Self {
            input_size: 300,
            strides: vec![16, 32, 64, 128, 256, 512],
            min_scale: 0.2,
            max_scale: 0.95,
            aspect_ratios: vec![1.0, 2.0, 0.5, 3.0, 0.3333],
            reduce_boxes_in_lowest_layer: true,
            interpolated_scale: true,
            offset: 0.5,
        }
    }
}

impl AnchorSpec {
    fn scale(&self, layer: usize) -> f32 {
        let n = self.strides.len();
        if n == 1 {
            (self.min_scale + self.max_scale) / 2.0
        } else {
            self.min_scale + (self.max_scale - self.min_scale) * layer as f32 / (n - 1) as f32
        }
    }

    /// The (scale, aspect ratio) of each box at one feature-map cell of `layer`.
    fn shapes(&self, layer: usize) -> Vec<(f32, f32)> {
        let s = self.scale(layer);
        if layer == 0 && self.reduce_boxes_in_lowest_layer {
            return vec![(0.1, 1.0), (s, 2.0), (s, 0.5)];
        }
        let mut v: Vec<_> = self.aspect_ratios.iter().map(|&r| (s, r)).collect();
        if self.interpolated_scale {
            let next = if layer + 1 == self.strides.len() {
                1.0
            } else {
                self.scale(layer + 1)
            };
            v.push(((s * next).sqrt(), 1.0));
        }
        v
    }

    /// All anchors, layer by layer, row by row, cell by cell, box by box: the order of the
    /// model's outputs.
    pub fn generate(&self) -> Vec<Anchor> {
        let mut out = Vec::new();
        for (layer, &stride) in self.strides.iter().enumerate() {
            let shapes = self.shapes(layer);
            let fm = self.input_size.div_ceil(stride.max(1));
            for y in 0..fm {
                for x in 0..fm {
                    for &(s, r) in &shapes {
                        let sr = r.sqrt();
                        out.push(Anchor {
                            cx: (x as f32 + self.offset) / fm as f32,
                            cy: (y as f32 + self.offset) / fm as f32,
                            w: s * sr,
                            h: s / sr,
                        });
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_has_1917_anchors() {
        let a = AnchorSpec::default().generate();
        assert_eq!(a.len(), 1917);
        // 19×19 cells × 3 boxes in the lowest layer, then 6 boxes a cell.
        assert_eq!(19 * 19 * 3 + (100 + 25 + 9 + 4 + 1) * 6, 1917);
    }

    #[test]
    fn anchors_match_values_worked_by_hand() {
        let a = AnchorSpec::default().generate();
        let close = |got: Anchor, want: [f32; 4]| {
            let g = [got.cx, got.cy, got.w, got.h];
            for k in 0..4 {
                assert!((g[k] - want[k]).abs() < 1e-5, "{got:?} vs {want:?}");
            }
        };
        // Cell (0,0) of the 19×19 layer: centre 0.5/19; scale 0.1 square.
        close(a[0], [0.5 / 19.0, 0.5 / 19.0, 0.1, 0.1]);
        // Its ratio-2 box at scale 0.2: w = 0.2·√2, h = 0.2/√2.
        close(
            a[1],
            [0.5 / 19.0, 0.5 / 19.0, 0.2 * 2f32.sqrt(), 0.2 / 2f32.sqrt()],
        );
        // The last cell of layer 0 (18,18), ratio 0.5.
        close(
            a[1082],
            [
                18.5 / 19.0,
                18.5 / 19.0,
                0.2 / 2f32.sqrt(),
                0.2 * 2f32.sqrt(),
            ],
        );
        // Layer 1 (10×10, scale 0.35) begins at 1083; its 6th box is √(0.35·0.5) at ratio 1.
        close(a[1083], [0.05, 0.05, 0.35, 0.35]);
        close(
            a[1088],
            [0.05, 0.05, (0.35f32 * 0.5).sqrt(), (0.35f32 * 0.5).sqrt()],
        );
        // The very last anchor: the 1×1 layer at scale 0.95, interpolated with 1.0.
        close(a[1916], [0.5, 0.5, 0.95f32.sqrt(), 0.95f32.sqrt()]);
    }

    #[test]
    fn anchors_match_the_python_reference() {
        #[derive(serde::Deserialize)]
        struct Sample {
            index: usize,
            cx_cy_w_h: [f32; 4],
        }
        #[derive(serde::Deserialize)]
        struct File {
            count: usize,
            sample: Vec<Sample>,
        }
        let f: File = serde_json::from_str(include_str!("../../tests/data/anchors.json")).unwrap();
        let a = AnchorSpec::default().generate();
        assert_eq!(a.len(), f.count);
        assert!(f.sample.len() >= 10);
        for s in f.sample {
            let g = a[s.index];
            let got = [g.cx, g.cy, g.w, g.h];
            for k in 0..4 {
                assert!(
                    (got[k] - s.cx_cy_w_h[k]).abs() < 1e-5,
                    "anchor {}: {got:?} vs {:?}",
                    s.index,
                    s.cx_cy_w_h
                );
            }
        }
    }
}
