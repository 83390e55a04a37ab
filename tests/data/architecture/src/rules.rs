//! Fixture: rules that name the alarm back.

use crate::alarm::f;
