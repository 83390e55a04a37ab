//! Fixture: an alarm module that names the rules.

use crate::event::Event;
/// Fires on [`crate::rules::Verdict`].
pub fn f(_: Event) {}
