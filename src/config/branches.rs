//! `[branches."GLOB"]`: settings for the runs of matching branches, over the file's own — the
//! per-branch configurations of the build server gridrun replaces (`main` strict, `develop`
//! lenient).
//!
//! ```toml
//! [branches."main"]
//! limits = { timeout = "20m" }        # any key of [limits]
//! env = { WERROR = "1" }              # added to [env], a key given again wins
//! retention_days = 90                 # artifacts.retention_days
//!
//! [[branches."main".notify]]          # in place of the file's [[notify]] for these runs
//! on = ["failure", "fixed"]
//! email = { to = ["core@example.com"], from = "ci@example.com", server = "smtp.example.com" }
//!
//! [branches."feature/*"]
//! limits = { timeout = "1h", jobs = 1 }
//! ```
//!
//! Every table whose glob matches the run's branch applies, in file order, so a later one wins.

use globset::{GlobBuilder, GlobMatcher};
use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::load::{RawLimits, Validator};
use super::schema::Text;
use super::{ConfigError, MatrixFile};

/// `[limits]` keys a branch may set; `None` keeps the file's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitsOverride {
    /// `limits.jobs`.
    pub jobs: Option<u32>,
    /// `limits.cpus`.
    pub cpus: Option<u32>,
    /// `limits.memory`, in bytes.
    pub memory: Option<u64>,
    /// `limits.timeout`.
    pub timeout: Option<std::time::Duration>,
    /// `limits.kill_grace`.
    pub kill_grace: Option<std::time::Duration>,
}

/// One `[branches."GLOB"]` table.
#[derive(Clone, Debug)]
pub struct BranchSettings {
    /// The glob as written (`release/*`); `*` does not cross a `/`, `**` does.
    pub glob: String,
    matcher: GlobMatcher,
    /// Limits over `[limits]`.
    pub limits: LimitsOverride,
    /// Environment over `[env]`.
    pub env: Vec<(String, Text)>,
    /// Over `artifacts.retention_days`.
    pub retention_days: Option<u32>,
    /// In place of the file's `[[notify]]` (an empty list silences the branch).
    pub notify: Option<Vec<super::Notify>>,
}

impl BranchSettings {
    /// Whether this table applies to runs of `branch`.
    pub fn matches(&self, branch: &str) -> bool {
        self.matcher.is_match(branch)
    }
}

/// Whether `text` is a glob rather than one name: it follows several branches.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// A branch glob: `*` within one path component, as git's own ref patterns.
pub fn branch_glob(text: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| e.kind().to_string())
}

impl MatrixFile {
    /// Applies every `[branches."GLOB"]` table matching `branch`, in file order.
    pub fn apply_branch(&mut self, branch: &str) {
        let matching: Vec<BranchSettings> = self.branches.iter().filter(|b| b.matches(branch)).cloned().collect();
        for settings in matching {
            let limits = &mut self.limits;
            let over = settings.limits;
            limits.jobs = over.jobs.or(limits.jobs);
            limits.cpus = over.cpus.unwrap_or(limits.cpus);
            limits.memory = over.memory.or(limits.memory);
            limits.timeout = over.timeout.or(limits.timeout);
            limits.kill_grace = over.kill_grace.unwrap_or(limits.kill_grace);
            for (key, value) in settings.env {
                match self.env.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = value,
                    None => self.env.push((key, value)),
                }
            }
            if settings.retention_days.is_some() {
                self.artifacts.retention_days = settings.retention_days;
            }
            if let Some(notify) = settings.notify {
                self.notify = notify;
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBranch {
    limits: Option<RawLimits>,
    env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    retention_days: Option<u32>,
    notify: Option<Vec<Spanned<super::notify::RawNotify>>>,
}

pub(super) type RawBranches = IndexMap<Spanned<String>, Spanned<RawBranch>>;

impl Validator<'_> {
    pub(super) fn branches(&self, raw: Option<RawBranches>) -> Result<Vec<BranchSettings>, ConfigError> {
        let mut out = Vec::new();
        for (glob, table) in raw.unwrap_or_default() {
            let text = glob.get_ref();
            if text.trim().is_empty() || text.starts_with('-') || text.chars().any(char::is_control) {
                return Err(self.file.error(
                    glob.span(),
                    format!("branches: `{}` is not a branch name or glob", crate::text::one_line(text)),
                ));
            }
            let matcher = branch_glob(text).map_err(|why| {
                self.file.error(glob.span(), format!("branches: `{text}` is not a valid glob: {why}"))
            })?;
            let table = table.into_inner();
            let what = format!("branches.\"{text}\"");
            let limits = match table.limits {
                Some(raw) => {
                    let full = self.limits(Some(raw.clone()))?;
                    LimitsOverride {
                        jobs: raw.jobs.as_ref().and(full.jobs),
                        cpus: raw.cpus.as_ref().map(|_| full.cpus),
                        memory: full.memory,
                        timeout: full.timeout,
                        kill_grace: raw.kill_grace.as_ref().map(|_| full.kill_grace),
                    }
                }
                None => LimitsOverride::default(),
            };
            out.push(BranchSettings {
                glob: glob.into_inner(),
                matcher,
                limits,
                env: self.env(table.env, &format!("{what}.env"))?,
                retention_days: table.retention_days,
                notify: table.notify.map(|n| self.notify(Some(n))).transpose()?,
            });
        }
        Ok(out)
    }
}
