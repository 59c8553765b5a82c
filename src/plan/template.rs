//! The file's templates (step commands, JUnit paths, env values, artifact patterns), compiled
//! once, rendered per job with strict undefined variables.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::config::{did_you_mean, ConfigError, MatrixFile, Text};
use crate::matrix::Cell;
use crate::toolchain::ResolvedToolchain;

/// Variables every job has, beside its cell's keys.
pub const BUILTINS: [&str; 17] = [
    "cell",
    "sanitizer_flags",
    "cc",
    "cxx",
    "compiler_family",
    "compiler_version",
    "llvm_config",
    "std_flag",
    "source",
    "build_dir",
    "results_dir",
    "cache_dir",
    "cpus",
    "job",
    "run",
    "commit",
    "ccache",
];

/// How many template instructions one rendering may run.
const TEMPLATE_FUEL: u64 = 200_000;

/// Where a template stands in the file, for errors.
#[derive(Clone, Debug)]
pub struct TemplateSite {
    /// `steps.build.run`, `env.CCACHE_DIR`, `artifacts.patterns`.
    pub what: String,
    /// The text as written.
    pub text: Text,
    /// What its rendering becomes.
    pub kind: SiteKind,
}

/// What a template's rendering becomes, which decides what it may render to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteKind {
    /// A step's shell command: not nothing.
    Command,
    /// A path the job writes (a JUnit file).
    Path,
    /// An environment variable's value.
    Env,
    /// An artifact glob: one globset can compile.
    Glob,
}

/// Every template of one matrix file, compiled.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    sites: Vec<TemplateSite>,
    /// Each template's name in `env`: its index.
    names: Vec<String>,
    /// The top-level variables each template reads, sorted: asked of every job a run renders.
    variables: Vec<Vec<String>>,
}

impl Templates {
    /// Compiles the templates in `sites` (their syntax was checked when the file was loaded).
    pub fn compile(matrix: &MatrixFile, sites: Vec<TemplateSite>) -> Result<Self, ConfigError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A template is a line of a build script: it gets enough work for any such line, and a
        // loop that would run for hours is an error instead.
        env.set_fuel(Some(TEMPLATE_FUEL));
        for (i, site) in sites.iter().enumerate() {
            env.add_template_owned(i.to_string(), site.text.value.clone()).map_err(|e| {
                matrix.file.error(
                    site.text.span.clone(),
                    format!("{}: template error: {}", site.what, e.detail().unwrap_or("syntax error")),
                )
            })?;
        }
        let names: Vec<String> = (0..sites.len()).map(|i| i.to_string()).collect();
        let variables = names
            .iter()
            .map(|name| {
                let template = env.get_template(name).expect("added above");
                let mut read: Vec<String> = template.undeclared_variables(false).into_iter().collect();
                read.sort();
                read
            })
            .collect();
        Ok(Self { env, sites, names, variables })
    }

    /// The sites, in the order they were compiled; `render` takes an index into them.
    pub fn sites(&self) -> &[TemplateSite] {
        &self.sites
    }

    /// The top-level variables template `index` reads.
    pub fn variables(&self, index: usize) -> &[String] {
        &self.variables[index]
    }

    /// Whether any template reads the variable `name`.
    pub fn any_reads(&self, name: &str) -> bool {
        self.variables.iter().any(|read| read.iter().any(|v| v == name))
    }

    /// Renders template `index` for a job, or says which variable the file got wrong.
    pub fn render(
        &self,
        index: usize,
        context: &Value,
        matrix: &MatrixFile,
        slug: &str,
    ) -> Result<String, ConfigError> {
        let site = &self.sites[index];
        let template = self.env.get_template(&self.names[index]).expect("compiled above");
        template.render(context).map_err(|err| render_error(matrix, site, &err, context, slug))
    }
}

fn render_error(
    matrix: &MatrixFile,
    site: &TemplateSite,
    err: &minijinja::Error,
    context: &Value,
    slug: &str,
) -> ConfigError {
    let span = crate::config::template_span(&matrix.file, &site.text, err.range());
    if err.kind() == minijinja::ErrorKind::UndefinedError {
        let expr = err.range().and_then(|r| site.text.value.get(r)).unwrap_or_default().trim();
        let word =
            |text: &str| text.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("").to_string();
        // `cell.nope` and `cell["no-pe"]` name a key of the cell, not `cell`.
        let cell_key = expr
            .strip_prefix("cell.")
            .map(word)
            .or_else(|| {
                expr.strip_prefix("cell[").map(|rest| {
                    rest.trim_start_matches(['"', '\'']).split(['"', '\'']).next().unwrap_or("").to_string()
                })
            })
            .filter(|k| !k.is_empty());
        if let Some(key) = cell_key {
            let known = context
                .get_attr("cell")
                .ok()
                .and_then(|c| {
                    c.try_iter().ok().map(|it| it.filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
                })
                .unwrap_or_default();
            let mut message = format!("{}: cell {slug} has no key `{key}`", site.what);
            let hint = match did_you_mean(&key, known.iter().map(String::as_str)) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => format!("; guard keys only some cells have with cell[\"{key}\"] | default(\"\")"),
            };
            message.push_str(&hint);
            return matrix.file.error(span, message);
        }
        let name = word(expr);
        let known: Vec<String> = context
            .try_iter()
            .map(|it| it.filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        // A setup or finally job's slug holds `@`; a cell's never does.
        let pipeline = slug.contains('@');
        let whose = if pipeline { "" } else { "cell " };
        let mut message = format!("{}: undefined variable `{name}` for {whose}{slug}", site.what);
        // A key other cells have (an include key) wants a guard, not another name.
        let some_cells_have = !pipeline
            && (matrix.axes.iter().any(|a| *a.name == *name)
                || matrix.include.iter().any(|e| e.pairs.iter().any(|(k, _)| **k == *name)));
        if some_cells_have {
            message.push_str(&format!(
                "; guard keys only some cells have with {{% if {name} is defined %}} or cell.{name} | default(\"\")"
            ));
        } else if let Some(close) = did_you_mean(&name, known.iter().map(String::as_str)).filter(|c| *c != name) {
            message.push_str(&format!("; did you mean `{close}`?"));
        } else if pipeline {
            message.push_str(&format!("; {} has no `{name}`", slug.split('@').next().unwrap_or(slug)));
        } else if !name.is_empty() && known.iter().all(|k| *k != name) {
            message.push_str(&format!(
                "; guard keys only some cells have with {{% if {name} is defined %}} or cell.{name} | default(\"\")"
            ));
        }
        return matrix.file.error(span, message);
    }
    if err.kind() == minijinja::ErrorKind::OutOfFuel {
        return matrix.file.error(
            span,
            format!("{}: the template runs more than {TEMPLATE_FUEL} steps for cell {slug}; simplify it", site.what),
        );
    }
    matrix.file.error(span, format!("{}: {}", site.what, err.detail().unwrap_or(&err.to_string())))
}

/// The variables one job's templates see.
#[derive(Debug)]
pub struct JobContext {
    /// The cell's keys and values.
    pub cell: Cell,
    /// The toolchain the cell resolved to.
    pub tools: Arc<ResolvedToolchain>,
    /// The checkout the job builds.
    pub source: String,
    /// The job's build folder.
    pub build_dir: String,
    /// The job's results folder.
    pub results_dir: String,
    /// The cache shared across runs.
    pub cache_dir: String,
    /// CPU slots the job holds.
    pub cpus: u32,
    /// The job's slug.
    pub job: String,
    /// The run id.
    pub run: u64,
    /// The source's commit.
    pub commit: String,
    /// `{{ setup.NAME }}`: each setup the cell needs, to its output folder; `None` where the
    /// file has no `[[setup]]`.
    pub setup: Option<Value>,
    /// `{{ ccache }}`: the launcher to put before a compiler (`ccache`), or empty where
    /// `[cache] ccache` is off or this host has no ccache.
    pub ccache: &'static str,
}

impl JobContext {
    /// The context as a template value.
    pub fn into_value(self) -> Value {
        Value::from_object(self)
    }
}

impl Object for JobContext {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let text = |s: &str| Some(Value::from(s));
        match key {
            "cell" => Some(Value::from_object(CellValues(self.clone()))),
            "cc" => text(&self.tools.cc),
            "cxx" => text(&self.tools.cxx),
            "compiler_family" => text(&self.tools.compiler_family),
            "compiler_version" => text(&self.tools.compiler_version),
            "llvm_config" => self.tools.llvm_config.as_deref().map(Value::from),
            "std_flag" => self.tools.std_flag.as_deref().map(Value::from),
            "sanitizer_flags" => text(&self.tools.sanitizer_flags),
            "source" => text(&self.source),
            "build_dir" => text(&self.build_dir),
            "results_dir" => text(&self.results_dir),
            "cache_dir" => text(&self.cache_dir),
            "cpus" => Some(Value::from(self.cpus)),
            "job" => text(&self.job),
            "run" => Some(Value::from(self.run)),
            "commit" => text(&self.commit),
            "setup" => self.setup.clone(),
            "ccache" => text(self.ccache),
            _ => self.cell.get(key).map(crate::config::Scalar::to_template_value),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = BUILTINS.iter().map(|k| Value::from(*k)).collect();
        if self.tools.llvm_config.is_none() {
            keys.retain(|k| k.as_str() != Some("llvm_config"));
        }
        if self.tools.std_flag.is_none() {
            keys.retain(|k| k.as_str() != Some("std_flag"));
        }
        if self.setup.is_some() {
            keys.push(Value::from("setup"));
        }
        keys.extend(self.cell.iter().map(|(k, _)| Value::from(k)));
        Enumerator::Values(keys)
    }
}

/// `cell`: the cell's values by key, for names that are not identifiers.
#[derive(Debug)]
struct CellValues(Arc<JobContext>);

impl Object for CellValues {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.cell.get(key.as_str()?).map(crate::config::Scalar::to_template_value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.cell.iter().map(|(k, _)| Value::from(k)).collect())
    }
}
