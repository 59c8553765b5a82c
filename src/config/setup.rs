//! `[[setup]]` and `[[finally]]`: the small job graph of a CI pipeline around the grid. A setup
//! runs once per run, or once per distinct value of the axes `per` names, before the cells that
//! need it; a finally step runs once after the grid, whatever the grid came to.
//!
//! ```toml
//! [[setup]]
//! name = "deps"                 # unique; names its job (`setup@deps-gcc-12`) and folders
//! per = ["compiler"]            # axes or include keys; default: once per run
//! run = "make -C deps PREFIX={{ setup_dir }}"
//! timeout = "10m"
//! env = { K = "v" }
//!
//! [[finally]]
//! name = "publish"
//! run = "python3 publish.py {{ run_json }}"
//! ```

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::load::{check_step_name, Validator};
use super::schema::{Axis, Entry, Text};
use super::{did_you_mean, ConfigError, DurationValue, Span};

/// Which of the two tables a step comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipelineKind {
    /// `[[setup]]`: before the cells that need it.
    Setup,
    /// `[[finally]]`: after the grid.
    Finally,
}

impl PipelineKind {
    /// The table's name, as the file writes it.
    pub fn table(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::Finally => "finally",
        }
    }
}

/// One `[[setup]]` or `[[finally]]` entry.
#[derive(Clone, Debug)]
pub struct PipelineStep {
    /// Its table.
    pub kind: PipelineKind,
    /// Its name, unique across both tables.
    pub name: Text,
    /// The axes (or include keys) it runs once per distinct value of, in the order written;
    /// always empty for `[[finally]]`.
    pub per: Vec<(String, Span)>,
    /// The shell command, a template.
    pub run: Text,
    /// Wall time it may take; the file's `limits.timeout` where not given.
    pub timeout: Option<std::time::Duration>,
    /// Extra environment, values are templates.
    pub env: Vec<(String, Text)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSetup {
    name: Spanned<String>,
    per: Option<Vec<Spanned<String>>>,
    run: Spanned<String>,
    timeout: Option<DurationValue>,
    env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFinally {
    name: Spanned<String>,
    run: Spanned<String>,
    timeout: Option<DurationValue>,
    env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
}

impl Validator<'_> {
    /// `[[setup]]` then `[[finally]]`, in file order within each.
    pub(super) fn pipeline(
        &self,
        setup: Option<Vec<RawSetup>>,
        finally: Option<Vec<RawFinally>>,
        axes: &[Axis],
        include: &[Entry],
    ) -> Result<Vec<PipelineStep>, ConfigError> {
        let keys: Vec<&str> = axes
            .iter()
            .map(|a| &*a.name)
            .chain(include.iter().flat_map(|e| e.pairs.iter().map(|(k, _)| &**k)))
            .collect();
        let mut out: Vec<PipelineStep> = Vec::new();
        let setups = setup
            .unwrap_or_default()
            .into_iter()
            .map(|s| (PipelineKind::Setup, s.name, s.per, s.run, s.timeout, s.env));
        let finals = finally
            .unwrap_or_default()
            .into_iter()
            .map(|f| (PipelineKind::Finally, f.name, None, f.run, f.timeout, f.env));
        for (kind, name, per, run, timeout, env) in setups.chain(finals) {
            let table = kind.table();
            check_step_name(self.file, &name, &format!("a [[{table}]] name"))?;
            if let Some(other) = out.iter().find(|s| s.name.value == *name.get_ref()) {
                return Err(self.file.error(
                    name.span(),
                    format!(
                        "a second [[setup]] or [[finally]] named `{}` (also a [[{}]])",
                        name.get_ref(),
                        other.kind.table()
                    ),
                ));
            }
            if run.get_ref().trim().is_empty() {
                return Err(self
                    .file
                    .error(run.span(), format!("[[{table}]] `{}` has an empty `run`", name.get_ref())));
            }
            let mut axes_per: Vec<(String, Span)> = Vec::new();
            for key in per.unwrap_or_default() {
                if !keys.contains(&key.get_ref().as_str()) {
                    let mut message = format!(
                        "setup `{}`: per names `{}`, which is no axis or include key of this file",
                        name.get_ref(),
                        crate::text::one_line(key.get_ref())
                    );
                    if let Some(close) = did_you_mean(key.get_ref(), keys.iter().copied()) {
                        message.push_str(&format!("; did you mean `{close}`?"));
                    }
                    return Err(self.file.error(key.span(), message));
                }
                if axes_per.iter().any(|(k, _)| k == key.get_ref()) {
                    return Err(self.file.error(
                        key.span(),
                        format!("setup `{}`: per names `{}` twice", name.get_ref(), key.get_ref()),
                    ));
                }
                axes_per.push((key.get_ref().clone(), key.span()));
            }
            let what = format!("{table}.{}", name.get_ref());
            out.push(PipelineStep {
                kind,
                per: axes_per,
                run: self.text(run, &format!("{what}.run"))?,
                timeout: timeout.map(|t| t.0),
                env: self.env(env, &format!("{what}.env"))?,
                name: self.text(name, &format!("a [[{table}]] name"))?,
            });
        }
        Ok(out)
    }
}
