//! Fixture: a leaf.
pub struct Event;
