//! The shipped `board/config/example.toml` is valid, and the sections it spells out for the
//! motion gate, video tamper, metrics and health repeat the defaults, so the comments tell the truth.

use picket::config::{self, Config};
use picket::health::HealthConfig;
use picket::metrics::MetricsConfig;
use picket::motion::MotionConfig;
use picket::tamper::TamperConfig;
use std::path::Path;

#[test]
fn the_example_config_loads_with_the_default_values() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("board/config/example.toml");
    let cfg: Config = config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.motion, MotionConfig::default());
    assert!(!cfg.motion.enabled, "the default keeps every frame");
    assert_eq!(cfg.tamper, TamperConfig::default());
    assert_eq!(cfg.metrics, MetricsConfig::default());
    assert_eq!(cfg.health, HealthConfig::default());
}
