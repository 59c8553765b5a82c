//! What every report format shares: the [`Export`] trait each format implements (after
//! hyperfine's exporters), the error they return, the JSON format itself, writing a report file
//! atomically, and making recorded text safe to put in a document.

use std::io;

use crate::outcome::RunReport;
pub(crate) use crate::text::{plain, tail};

/// Turns a recorded run into the bytes of one report format.
pub trait Export {
    /// The report on `run`; against `baseline` (an earlier run) where the format can say what
    /// changed. Formats with nothing to say about a baseline ignore it.
    fn serialize(&self, run: &RunReport, baseline: Option<&RunReport>) -> Result<Vec<u8>, ReportError>;
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `--pivot` names a key the matrix does not have.
    #[error("{0}")]
    Pivot(String),
    /// The HTML template failed to render.
    #[error("cannot render the HTML report: {0}")]
    Template(#[from] minijinja::Error),
    /// The XML writer failed.
    #[error("cannot write XML: {0}")]
    Xml(#[from] io::Error),
    /// The run could not be serialized.
    #[error("cannot serialize the run as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// DESIGN §4's `show --json` document, pretty-printed. A baseline adds nothing: `compare --json`
/// is the machine-readable difference.
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

impl Export for Json {
    fn serialize(&self, run: &RunReport, _baseline: Option<&RunReport>) -> Result<Vec<u8>, ReportError> {
        let mut bytes = serde_json::to_vec_pretty(run)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// A duration in seconds with three decimals, as JUnit wants it.
pub(crate) fn seconds(ms: i64) -> String {
    let ms = ms.max(0);
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// A duration for people: `0.4s`, `12.3s`, `3m 07s`, `1h 02m`.
pub(crate) fn human_duration(ms: i64) -> String {
    let ms = ms.max(0);
    let secs = ms / 1000;
    match secs {
        0..60 => format!("{}.{}s", secs, (ms % 1000) / 100),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// Memory in MiB with one decimal; `None` where nothing could be measured.
pub(crate) fn mib(kb: Option<u64>) -> Option<String> {
    match kb {
        Some(kb) if kb > 0 => {
            let tenths = (kb * 10 + 512) / 1024;
            Some(format!("{}.{} MiB", tenths / 10, tenths % 10))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_have_three_decimals() {
        assert_eq!(seconds(0), "0.000");
        assert_eq!(seconds(1234), "1.234");
        assert_eq!(seconds(-3), "0.000");
    }
}
