//! `[coverage]`: what `coverage = true` cells must reach.
//!
//! ```toml
//! [coverage]
//! min_line = 80      # per cent of lines; a job under it fails as kind `coverage`
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::load::Validator;
use super::ConfigError;

/// `[coverage]`, validated.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CoverageSettings {
    /// The least line coverage, in per cent, a coverage job may have.
    pub min_line: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoverage {
    min_line: Option<Spanned<f64>>,
}

impl Validator<'_> {
    pub(super) fn coverage(&self, raw: Option<RawCoverage>) -> Result<CoverageSettings, ConfigError> {
        let Some(raw) = raw else { return Ok(CoverageSettings::default()) };
        if let Some(min) = &raw.min_line {
            let value = *min.get_ref();
            if !(0.0..=100.0).contains(&value) {
                return Err(self.file.error(min.span(), "coverage.min_line is a per cent: from 0 to 100"));
            }
        }
        Ok(CoverageSettings { min_line: raw.min_line.map(Spanned::into_inner) })
    }
}
