//! `[ci]`: how `plan --format github|gitlab` hands the cells to a CI — the runner label and
//! container image of each cell (by globs over any of its keys), and how many CI jobs at most.
//!
//! ```toml
//! [ci]
//! runs_on = "ubuntu-24.04"          # default label; by platform otherwise (macos → macos-latest)
//! image = "debian:bookworm"         # default container image; none otherwise
//! max_jobs = 64                     # at most this many CI jobs (and never over the CI's limit)
//! gitlab_template = ".gitlab/gridrun.yml"   # what the GitLab child pipeline includes
//!
//! [[ci.runners]]                    # the first whose `match` fits a cell gives its runner
//! match = { platform = "macos*" }
//! runs_on = "macos-14"
//! ```

use globset::{Glob, GlobMatcher};
use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::load::Validator;
use super::ConfigError;

/// `[ci]`, validated.
#[derive(Clone, Debug, Default)]
pub struct Ci {
    /// The runner label of a cell no entry of `runners` fits.
    pub runs_on: Option<String>,
    /// The container image of a cell no entry of `runners` fits (none where not given).
    pub image: Option<String>,
    /// At most this many CI jobs.
    pub max_jobs: Option<u32>,
    /// The file (in the repository) the GitLab child pipeline includes, which defines the job
    /// template `.gridrun-cells`.
    pub gitlab_template: Option<String>,
    /// `[[ci.runners]]`, in file order.
    pub runners: Vec<Runner>,
}

/// One `[[ci.runners]]` entry.
#[derive(Clone, Debug)]
pub struct Runner {
    /// Key and glob pairs a cell's values must all match.
    pub matches: Vec<(String, GlobMatcher)>,
    /// The runner label it gives.
    pub runs_on: Option<String>,
    /// The container image it gives (`""` for none).
    pub image: Option<String>,
}

impl Ci {
    /// The label and image `[ci]` gives a cell whose values `value` reads: the first runner
    /// entry that fits, the table's defaults for what it leaves unsaid.
    pub fn runner_for<'a>(&'a self, value: impl Fn(&str) -> Option<&'a str>) -> (Option<&'a str>, Option<&'a str>) {
        let fits =
            |runner: &&Runner| runner.matches.iter().all(|(key, glob)| value(key).is_some_and(|v| glob.is_match(v)));
        let found = self.runners.iter().find(fits);
        let runs_on = found.and_then(|r| r.runs_on.as_deref()).or(self.runs_on.as_deref());
        let image = found.and_then(|r| r.image.as_deref()).or(self.image.as_deref());
        (runs_on, image)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCi {
    runs_on: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
    max_jobs: Option<Spanned<i64>>,
    gitlab_template: Option<Spanned<String>>,
    runners: Option<Vec<Spanned<RawRunner>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunner {
    #[serde(rename = "match")]
    matches: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    runs_on: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
}

impl Validator<'_> {
    pub(super) fn ci(&self, raw: Option<RawCi>) -> Result<Ci, ConfigError> {
        let Some(raw) = raw else { return Ok(Ci::default()) };
        let label =
            |value: Option<Spanned<String>>, key: &str, empty_ok: bool| -> Result<Option<String>, ConfigError> {
                value
                    .map(|v| {
                        let text = v.get_ref();
                        if (!empty_ok && text.trim().is_empty()) || text.chars().any(char::is_control) {
                            let what = if text.trim().is_empty() { "must not be empty" } else { "must be one line" };
                            return Err(self.file.error(v.span(), format!("{key} {what}")));
                        }
                        Ok(v.into_inner())
                    })
                    .transpose()
            };
        let max_jobs = match raw.max_jobs {
            Some(v) => match u32::try_from(*v.get_ref()) {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(self.file.error(v.span(), "ci.max_jobs must be a whole number of at least 1")),
            },
            None => None,
        };
        let mut runners = Vec::new();
        for entry in raw.runners.unwrap_or_default() {
            let span = entry.span();
            let entry = entry.into_inner();
            let mut matches = Vec::new();
            for (key, glob) in entry.matches.unwrap_or_default() {
                let compiled = Glob::new(glob.get_ref()).map(|g| g.compile_matcher()).map_err(|e| {
                    self.file
                        .error(glob.span(), format!("ci.runners.match.{}: not a glob: {}", key.get_ref(), e.kind()))
                })?;
                matches.push((key.into_inner(), compiled));
            }
            if entry.runs_on.is_none() && entry.image.is_none() {
                return Err(self.file.error(span, "a [[ci.runners]] entry gives neither runs_on nor image"));
            }
            runners.push(Runner {
                matches,
                runs_on: label(entry.runs_on, "ci.runners.runs_on", false)?,
                image: label(entry.image, "ci.runners.image", true)?,
            });
        }
        Ok(Ci {
            runs_on: label(raw.runs_on, "ci.runs_on", false)?,
            image: label(raw.image, "ci.image", true)?,
            max_jobs,
            gitlab_template: label(raw.gitlab_template, "ci.gitlab_template", false)?,
            runners,
        })
    }
}
