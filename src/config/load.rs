//! Reading matrix files: finding them, parsing the TOML with spans, and validating what serde
//! cannot (empty axes, exclude keys that are not axes, steps and presets, template syntax).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::error::did_you_mean;
use super::schema::{Axis, Entry, Text};
use super::{
    Artifacts, ConfigError, DurationValue, Limits, Preset, Project, Scalar, SizeValue, Source, SourceFile, Step,
};

/// The most cells one file may expand to: far past any real matrix (a 100,000-cell plan takes a
/// quarter of a second), and short of the memory a runaway product would take.
const MAX_CELLS: u64 = 1_000_000;

/// The largest matrix file read: a hundred times the largest real one.
const MAX_FILE_BYTES: u64 = 8 << 20;

/// The name gridrun looks for in the current directory and its parents.
pub const DEFAULT_FILE: &str = "gridrun.toml";
/// The folder of matrix files gridrun falls back to.
pub const DEFAULT_FOLDER: &str = "matrices";

/// One validated matrix file: one project.
#[derive(Clone, Debug)]
pub struct MatrixFile {
    /// The file's path and text, for errors.
    pub file: SourceFile,
    /// The folder the file is in, absolute: relative paths are relative to it.
    pub dir: PathBuf,
    /// `[project]`.
    pub project: Project,
    /// The axes of `[matrix]`, in file order.
    pub axes: Vec<Axis>,
    /// `[[matrix.exclude]]`, in file order.
    pub exclude: Vec<Entry>,
    /// `[[matrix.include]]`, in file order.
    pub include: Vec<Entry>,
    /// `[limits]`.
    pub limits: Limits,
    /// `[env]`, values are templates.
    pub env: Vec<(String, Text)>,
    /// The steps, from `[[steps]]` or the preset.
    pub steps: Vec<Step>,
    /// `[artifacts]`.
    pub artifacts: Artifacts,
    /// `secrets`: environment variables whose values (the caller's) are masked everywhere.
    pub secrets: Vec<String>,
    /// `[ci]`: runners and images for the fan-out `plan --format github|gitlab` plans.
    pub ci: super::Ci,
    /// `[hosts.NAME]`: build hosts this file adds (or overrides) beyond the hosts file's.
    pub hosts: Vec<super::HostConfig>,
    /// `[container]`: the image cells run in.
    pub container: super::Container,
    /// `[slurm]`: how `run --on slurm` submits.
    pub slurm: super::Slurm,
    /// `[branches."GLOB"]`: settings for runs of matching branches, in file order.
    pub branches: Vec<super::BranchSettings>,
    /// `[coverage]`: what coverage cells must reach.
    pub coverage: super::CoverageSettings,
    /// `[[setup]]` then `[[finally]]`, each in file order.
    pub pipeline: Vec<super::PipelineStep>,
    /// `[[notify]]`: who hears of a run, and when.
    pub notify: Vec<super::Notify>,
    /// `[cache]`: ccache for the cells' compiles.
    pub cache: super::Cache,
}

/// Finds the matrix when none is named: `gridrun.toml` in `start` or a parent, else
/// `matrices/` in `start`.
pub fn discover(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(DEFAULT_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    let folder = start.join(DEFAULT_FOLDER);
    folder.is_dir().then_some(folder)
}

/// Loads a matrix file, or every `*.toml` in a folder (sorted by name).
pub fn load_path(path: &Path) -> Result<Vec<MatrixFile>, ConfigError> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| ConfigError::whole_file(path, format!("cannot read folder: {e}")))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml") && p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(ConfigError::whole_file(path, "folder holds no *.toml matrix files"));
        }
        let loaded = files.iter().map(|f| load_file(f)).collect::<Result<Vec<_>, _>>()?;
        let mut names = HashSet::new();
        for m in &loaded {
            if !names.insert(m.project.name.clone()) {
                return Err(ConfigError::whole_file(
                    &m.file.path,
                    format!("project name `{}` is used by another file in {}", m.project.name, path.display()),
                ));
            }
        }
        Ok(loaded)
    } else {
        Ok(vec![load_file(path)?])
    }
}

/// Loads and validates one matrix file.
pub fn load_file(path: &Path) -> Result<MatrixFile, ConfigError> {
    let cannot_read = |e: &dyn std::fmt::Display| ConfigError::whole_file(path, format!("cannot read: {e}"));
    let bytes = crate::boundedread::read(path, MAX_FILE_BYTES).map_err(|e| cannot_read(&e))?;
    let mut text = String::from_utf8(bytes).map_err(|_| cannot_read(&"stream did not contain valid UTF-8"))?;
    // A byte-order mark says nothing to TOML; left in, it would shift every column of line 1.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    load_text(path, text)
}

/// Validates a matrix file's text as if read from `path` (its folder is where relative paths
/// point).
pub fn load_text(path: &Path, text: String) -> Result<MatrixFile, ConfigError> {
    let absolute = std::path::absolute(path).map_err(|e| ConfigError::whole_file(path, e.to_string()))?;
    let dir = absolute.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let file = SourceFile { path: path.to_path_buf(), text: text.into() };
    let raw: RawFile = toml::from_str(&file.text).map_err(|e| toml_error(&file, &e))?;
    Validator { file: &file }.validate(raw, dir, path)
}

pub(super) fn toml_error(file: &SourceFile, err: &toml::de::Error) -> ConfigError {
    let message = plain_words(&err.message().trim().lines().map(str::trim).collect::<Vec<_>>().join("; "));
    let span = err.span().unwrap_or(0..0);
    if message == "duplicate key" {
        // Name the key and its table, as a reader needs.
        let key = file.slice(&span).trim().trim_matches('"').to_string();
        let table = section_of(file, &span)
            .and_then(|s| s.strip_prefix("in ").map(|t| t.trim_matches(['[', ']']).to_string()))
            .map_or_else(String::new, |t| format!(" in table `{t}`"));
        return file.error(span, format!("duplicate key `{key}`{table}"));
    }
    if let Some(rest) = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("unknown variant `")) {
        let unknown = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let mut out = format!("unknown key `{unknown}`");
        if let Some(section) = section_of(file, &span) {
            out.push_str(&format!(" {section}"));
        }
        match did_you_mean(unknown, expected.iter().copied()) {
            Some(close) => out.push_str(&format!("; did you mean `{close}`?")),
            None if !expected.is_empty() => out.push_str(&format!("; expected one of: {}", expected.join(", "))),
            None => {}
        }
        return file.error(span, out);
    }
    let message = match key_before(file, &span) {
        Some(key) if !message.contains(&format!("`{key}`")) => format!("{key}: {message}"),
        _ => message,
    };
    file.error(span, message)
}

/// serde's Rust words in TOML's: a sequence is an array, a map is a table.
fn plain_words(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, toml) in [
        ("invalid type: sequence", "invalid type: array"),
        ("invalid type: map", "invalid type: table"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected i64", "expected a whole number"),
        ("expected u32", "expected a whole number of 0 or more"),
        ("expected u64", "expected a whole number of 0 or more"),
        ("missing field", "missing key"),
        // toml 1 reads an array left open as one missing a comma; what is missing is its end.
        ("missing comma between array elements, expected `,`", "invalid array; expected `]`"),
        ("unclosed table, expected `]`", "invalid table header; expected `.`, `]`"),
    ] {
        out = out.replace(rust, toml);
    }
    out
}

/// Where the key at `span` is: `in [limits]`, `in project.source` (an inline table),
/// `at the top level`.
fn section_of(file: &SourceFile, span: &std::ops::Range<usize>) -> Option<String> {
    let before = file.text.get(..span.start)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let own_line = &before[line_start..];
    let header_of = |line: &str| line.trim().trim_start_matches('[').trim_end_matches(']').trim().to_string();
    // A key written in a header, `[limit]` or `[project.sourc]`: its table is the header's prefix.
    if own_line.trim_start().starts_with('[') {
        let prefix = header_of(own_line);
        let parent = prefix.trim_end_matches('.');
        return Some(if parent.is_empty() { "at the top level".into() } else { format!("in [{parent}]") });
    }
    let header = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.starts_with('['))
        .map(|line| line.split(']').next().unwrap_or(line).trim_start_matches('[').to_string());
    // A key in an inline table, `source = { branch = … }`: name the inline table.
    if let Some((outer, _)) = own_line.rsplit_once('{') {
        let inline = outer.trim_end().trim_end_matches('=').trim().trim_matches('"');
        return Some(match header {
            Some(h) => format!("in {h}.{inline}"),
            None => format!("in {inline}"),
        });
    }
    Some(match header {
        Some(h) if own_line.contains("[[") || before[..line_start].contains(&format!("[[{h}]]")) => {
            format!("in [[{h}]]")
        }
        Some(h) => format!("in [{h}]"),
        None => "at the top level".into(),
    })
}

/// The key whose value starts at `span`, for messages about a value: `key = <value>`.
fn key_before(file: &SourceFile, span: &std::ops::Range<usize>) -> Option<String> {
    let before = file.text.get(..span.start)?;
    let line = before.rsplit('\n').next()?;
    let (keys, _) = line.rsplit_once('=')?;
    let key = keys.rsplit(['{', ',']).next()?.trim().trim_matches('"');
    (!key.is_empty() && !key.contains(char::is_whitespace)).then(|| key.to_string())
}

pub(super) struct Validator<'a> {
    pub(super) file: &'a SourceFile,
}

impl Validator<'_> {
    /// A string from the file; a NUL in it could never reach a process, so it is refused here.
    pub(super) fn text(&self, s: Spanned<String>, key: &str) -> Result<Text, ConfigError> {
        let span = s.span();
        if s.get_ref().contains('\0') {
            return Err(self.file.error(span, format!("{key} must not hold a NUL character")));
        }
        Ok(Text { value: s.into_inner(), span })
    }

    /// An environment variable's name (a letter or `_`, then letters, digits and `_`), for `key`.
    pub(super) fn env_name(&self, name: Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let text = name.get_ref();
        let valid = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(self.file.error(
                name.span(),
                format!("{key}: `{}` is not an environment variable's name", crate::text::one_line(text)),
            ));
        }
        Ok(name.into_inner())
    }

    /// `secrets = ["NAME", …]`: names of environment variables, never given a value in the file.
    fn secrets(
        &self,
        raw: Option<Vec<Spanned<String>>>,
        env: &[(String, Text)],
        steps: &[Step],
    ) -> Result<Vec<String>, ConfigError> {
        let mut names: Vec<String> = Vec::new();
        for name in raw.unwrap_or_default() {
            let span = name.span();
            let text = self.env_name(name, "secrets")?;
            if names.contains(&text) {
                return Err(self.file.error(span, format!("secrets: `{text}` is listed twice")));
            }
            let set_in_file = env.iter().chain(steps.iter().flat_map(|s| &s.env)).any(|(k, _)| *k == text);
            if set_in_file {
                return Err(self.file.error(
                    span,
                    format!("secrets: `{text}` is also given a value in this file; a secret's value comes from the environment gridrun runs in"),
                ));
            }
            names.push(text);
        }
        Ok(names)
    }

    /// Extra options handed to another program (`sbatch`, `podman run`): each one word starting
    /// with `-`, no control characters.
    pub(super) fn options(
        &self,
        raw: Option<Vec<Spanned<String>>>,
        key: &str,
        what: &str,
    ) -> Result<Vec<String>, ConfigError> {
        raw.unwrap_or_default()
            .into_iter()
            .map(|o| {
                let text = o.get_ref();
                if !text.starts_with('-') || text.chars().any(char::is_control) {
                    return Err(self.file.error(
                        o.span(),
                        format!("{key}: `{}` is not {what} (options start with `-`)", crate::text::one_line(text)),
                    ));
                }
                Ok(o.into_inner())
            })
            .collect()
    }

    /// A key or value that will reach a process: it cannot hold a NUL.
    fn no_nul<T: std::fmt::Display>(&self, value: &Spanned<T>, what: &str) -> Result<(), ConfigError> {
        if value.get_ref().to_string().contains('\0') {
            return Err(self.file.error(value.span(), format!("{what} must not hold a NUL character")));
        }
        Ok(())
    }

    /// `[env]` or a step's `env`: names a process environment can hold, values as templates.
    pub(super) fn env(
        &self,
        map: Option<IndexMap<Spanned<String>, Spanned<String>>>,
        table: &str,
    ) -> Result<Vec<(String, Text)>, ConfigError> {
        let mut out = Vec::new();
        for (key, value) in map.unwrap_or_default() {
            let name = key.get_ref();
            if name.is_empty() || name.contains(['=', '\0']) || name.chars().any(char::is_control) {
                return Err(self.file.error(
                    key.span(),
                    format!("{table}: `{}` cannot be an environment variable's name", crate::text::one_line(name)),
                ));
            }
            let what = format!("{table}.{name}");
            out.push((key.into_inner(), self.text(value, &what)?));
        }
        Ok(out)
    }

    fn validate(&self, raw: RawFile, dir: PathBuf, path: &Path) -> Result<MatrixFile, ConfigError> {
        let project = self.project(raw.project, &dir, path)?;
        let (axes, exclude, include) = self.matrix(raw.matrix)?;
        let limits = self.limits(raw.limits)?;
        let cache = self.cache(raw.cache)?;
        let env = self.env(raw.env, "env")?;
        if let Some((_, dir)) = env.iter().find(|(k, _)| k == "CCACHE_DIR").filter(|_| cache.ccache) {
            // Its own folder would hide the per-compiler caches from one another and from gc.
            return Err(self.file.error(
                dir.span.clone(),
                "env.CCACHE_DIR: with [cache] ccache = true gridrun keeps one cache per compiler under {{ cache_dir }}/ccache; remove CCACHE_DIR from [env]",
            ));
        }
        let steps = self.steps(raw.steps, raw.preset, cache.ccache)?;
        let artifacts = match raw.artifacts {
            Some(a) => Artifacts {
                patterns: a
                    .patterns
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| self.text(p, "artifacts.patterns"))
                    .collect::<Result<_, _>>()?,
                retention_days: a.retention_days,
            },
            None => Artifacts::default(),
        };
        let secrets = self.secrets(raw.secrets, &env, &steps)?;
        let ci = self.ci(raw.ci)?;
        let hosts = self.hosts(raw.hosts)?;
        let container = self.container(raw.container)?;
        let slurm = self.slurm(raw.slurm)?;
        let branches = self.branches(raw.branches)?;
        let coverage = self.coverage(raw.coverage)?;
        let pipeline = self.pipeline(raw.setup, raw.finally, &axes, &include)?;
        let notify = self.notify(raw.notify)?;
        let matrix = MatrixFile {
            file: self.file.clone(),
            dir,
            project,
            axes,
            exclude,
            include,
            limits,
            env,
            steps,
            artifacts,
            secrets,
            ci,
            hosts,
            container,
            slurm,
            branches,
            coverage,
            pipeline,
            notify,
            cache,
        };
        check_template_syntax(&matrix)?;
        Ok(matrix)
    }

    fn project(&self, raw: Option<RawProject>, dir: &Path, path: &Path) -> Result<Project, ConfigError> {
        let raw = raw.unwrap_or_default();
        let name = match raw.name {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(self.file.error(name.span(), "project.name must not be empty"));
            }
            Some(name) => {
                if let Err(why) = path_component(name.get_ref(), MAX_PROJECT_NAME) {
                    return Err(self.file.error(name.span(), format!("project.name {why}")));
                }
                name.into_inner()
            }
            None => {
                let stem = path.file_stem().map_or_else(|| "project".into(), |s| s.to_string_lossy().into_owned());
                if let Err(why) = path_component(&stem, MAX_PROJECT_NAME) {
                    return Err(ConfigError::whole_file(
                        path,
                        format!("the file's name is the project's name, which {why}; set project.name"),
                    ));
                }
                stem
            }
        };
        let source = match raw.source {
            None => Source::Path(dir.to_path_buf()),
            Some(spanned) => {
                let span = spanned.span();
                let s = spanned.into_inner();
                match (s.path, s.git) {
                    (Some(_), Some(_)) => {
                        return Err(self.file.error(span, "project.source takes `path` or `git`, not both"));
                    }
                    (None, None) => {
                        return Err(self.file.error(span, "project.source needs `path` or `git`"));
                    }
                    (Some(p), None) => {
                        if s.rev.is_some() || s.depth.is_some() || s.submodules.is_some() {
                            return Err(self.file.error(
                                span,
                                "project.source: `rev`, `depth` and `submodules` go with `git`, not `path`",
                            ));
                        }
                        Source::Path(dir.join(p))
                    }
                    (None, Some(url)) => {
                        self.git_operand(&url, "git", "a repository URL or path")?;
                        if let Some(rev) = &s.rev {
                            self.git_operand(rev, "rev", "a branch, tag or commit")?;
                        }
                        if let Some(depth) = &s.depth {
                            if *depth.get_ref() == 0 {
                                return Err(self.file.error(depth.span(), "project.source.depth must be at least 1"));
                            }
                        }
                        Source::Git {
                            url: url.into_inner(),
                            rev: s.rev.map(Spanned::into_inner),
                            depth: s.depth.map(Spanned::into_inner),
                            submodules: s.submodules.unwrap_or(false),
                        }
                    }
                }
            }
        };
        Ok(Project { name, source })
    }

    /// A value that reaches git's command line as an operand: never something git would read as
    /// an option, and never a transport that runs a command (`ext::`, `fd::`).
    fn git_operand(&self, value: &Spanned<String>, key: &str, what: &str) -> Result<(), ConfigError> {
        let text = value.get_ref();
        let problem = if text.trim().is_empty() {
            Some(format!("project.source.{key} must not be empty"))
        } else if text.starts_with('-') {
            Some(format!("project.source.{key} must be {what}, not something starting with `-`"))
        } else if text.chars().any(char::is_control) {
            Some(format!("project.source.{key} must not hold control characters"))
        } else if key == "git" && (text.starts_with("ext::") || text.starts_with("fd::")) {
            Some(format!(
                "project.source.{key}: the `{}` transport runs commands; gridrun refuses it",
                &text[..text.find("::").unwrap_or(0) + 2]
            ))
        } else {
            None
        };
        match problem {
            Some(message) => Err(self.file.error(value.span(), message)),
            None => Ok(()),
        }
    }

    #[allow(clippy::type_complexity)]
    fn matrix(&self, raw: Option<RawMatrix>) -> Result<(Vec<Axis>, Vec<Entry>, Vec<Entry>), ConfigError> {
        let raw = raw.unwrap_or_default();
        let mut axes = Vec::with_capacity(raw.axes.len());
        for (name, values) in raw.axes {
            let span = values.span();
            let values = values.into_inner().0;
            if values.is_empty() {
                return Err(self.file.error(span, format!("axis `{}` has no values", name.get_ref())));
            }
            let mut seen = HashSet::new();
            self.no_nul(&name, "an axis name")?;
            for value in &values {
                self.no_nul(value, &format!("a value of axis `{}`", name.get_ref()))?;
                self.flag_value(name.get_ref(), value)?;
                if !seen.insert(value.get_ref().as_str()) {
                    return Err(self
                        .file
                        .error(value.span(), format!("axis `{}` lists `{}` twice", name.get_ref(), value.get_ref())));
                }
            }
            axes.push(Axis {
                span: name.span(),
                name: Arc::from(name.into_inner()),
                values: values.into_iter().map(Spanned::into_inner).collect(),
            });
        }
        let mut cells: u64 = 1;
        for axis in &axes {
            cells = cells.saturating_mul(axis.values.len() as u64);
            if cells > MAX_CELLS {
                let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
                return Err(self.file.error(
                    axis.span.clone(),
                    format!(
                        "the matrix has more than {MAX_CELLS} cells ({} values, from axis `{}` on); narrow it with \
                         fewer values or split it into files",
                        sizes.join(" × "),
                        axis.name
                    ),
                ));
            }
        }
        let axis_names: Vec<&str> = axes.iter().map(|a| &*a.name).collect();
        let mut exclude = Vec::with_capacity(raw.exclude.len());
        for entry in raw.exclude {
            for key in entry.get_ref().keys() {
                if !axis_names.contains(&key.get_ref().as_str()) {
                    let mut message = format!("exclude key `{}` is not an axis of [matrix]", key.get_ref());
                    if let Some(close) = did_you_mean(key.get_ref(), axis_names.iter().copied()) {
                        message.push_str(&format!("; did you mean `{close}`?"));
                    }
                    return Err(self.file.error(key.span(), message));
                }
            }
            exclude.push(self.entry(entry, "exclude")?);
        }
        let include = raw.include.into_iter().map(|e| self.entry(e, "include")).collect::<Result<_, _>>()?;
        Ok((axes, exclude, include))
    }

    fn entry(
        &self,
        entry: Spanned<IndexMap<Spanned<String>, Spanned<Scalar>>>,
        what: &str,
    ) -> Result<Entry, ConfigError> {
        let span = entry.span();
        let map = entry.into_inner();
        if map.is_empty() {
            return Err(self.file.error(span, format!("an empty [[matrix.{what}]] entry matches nothing")));
        }
        for (key, value) in &map {
            self.no_nul(key, &format!("a [[matrix.{what}]] key"))?;
            self.no_nul(value, &format!("the value of `{}`", key.get_ref()))?;
            self.flag_value(key.get_ref(), value)?;
        }
        let key_spans = map.keys().map(Spanned::span).collect();
        let pairs = map.into_iter().map(|(k, v)| (Arc::from(k.into_inner()), v.into_inner())).collect();
        Ok(Entry { pairs, key_spans, span })
    }

    /// A cell key gridrun reads as a switch (`allow_failure`) takes `true` or `false`.
    fn flag_value(&self, key: &str, value: &Spanned<Scalar>) -> Result<(), ConfigError> {
        let boolean = [crate::toolchain::keys::ALLOW_FAILURE, crate::toolchain::keys::COVERAGE];
        if boolean.contains(&key) && value.get_ref().as_bool().is_none() {
            return Err(self
                .file
                .error(value.span(), format!("`{key}` takes true or false, not `{}`", value.get_ref())));
        }
        if key == crate::toolchain::keys::SANITIZER {
            if let Err(why) = crate::toolchain::sanitizer::parse_list(&value.get_ref().to_string()) {
                return Err(self.file.error(value.span(), format!("{key}: {why}")));
            }
        }
        Ok(())
    }

    pub(super) fn limits(&self, raw: Option<RawLimits>) -> Result<Limits, ConfigError> {
        let Some(raw) = raw else { return Ok(Limits::default()) };
        let positive = |value: Option<Spanned<i64>>, key: &str| -> Result<Option<u32>, ConfigError> {
            value
                .map(|v| match u32::try_from(*v.get_ref()) {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(self.file.error(v.span(), format!("limits.{key} must be a whole number of at least 1"))),
                })
                .transpose()
        };
        let defaults = Limits::default();
        Ok(Limits {
            jobs: positive(raw.jobs, "jobs")?,
            cpus: positive(raw.cpus, "cpus")?.unwrap_or(defaults.cpus),
            memory: raw.memory.map(|m| m.0),
            timeout: raw.timeout.map(|t| t.0),
            kill_grace: raw.kill_grace.map_or(defaults.kill_grace, |t| t.0),
        })
    }

    fn steps(
        &self,
        steps: Option<Spanned<Vec<RawStep>>>,
        preset: Option<Spanned<String>>,
        ccache: bool,
    ) -> Result<Vec<Step>, ConfigError> {
        match (steps, preset) {
            (Some(_), Some(preset)) => {
                Err(self.file.error(preset.span(), "`preset` stands instead of [[steps]]; remove one of them"))
            }
            (None, None) => Err(ConfigError::whole_file(
                &self.file.path,
                r#"no steps: add [[steps]] with `name` and `run`, or `preset = "cmake"` ("make", "meson")"#,
            )),
            (None, Some(preset)) => {
                let span = preset.span();
                let Some(kind) = Preset::from_name(preset.get_ref()) else {
                    let mut message = format!("unknown preset `{}`", preset.get_ref());
                    match did_you_mean(preset.get_ref(), Preset::NAMES) {
                        Some(close) => message.push_str(&format!("; did you mean `{close}`?")),
                        None => message.push_str(&format!("; expected one of: {}", Preset::NAMES.join(", "))),
                    }
                    return Err(self.file.error(span, message));
                };
                let text = |value: &str| Text { value: value.to_string(), span: span.clone() };
                Ok(kind
                    .steps_with(ccache)
                    .iter()
                    .map(|(name, run, junit)| Step {
                        name: text(name),
                        run: text(run),
                        junit: junit.map(text),
                        retries: 0,
                        timeout: None,
                        env: Vec::new(),
                    })
                    .collect())
            }
            (Some(steps), None) => {
                let span = steps.span();
                let steps = steps.into_inner();
                if steps.is_empty() {
                    return Err(self.file.error(span, "`steps` is empty; add a [[steps]] with `name` and `run`"));
                }
                let mut names = HashSet::new();
                let mut out = Vec::with_capacity(steps.len());
                for step in steps {
                    let name = step.name;
                    check_step_name(self.file, &name, "a step name")?;
                    if step.run.get_ref().trim().is_empty() {
                        return Err(self
                            .file
                            .error(step.run.span(), format!("step `{}` has an empty `run`", name.get_ref())));
                    }
                    if !names.insert(name.get_ref().clone()) {
                        return Err(self.file.error(name.span(), format!("a second step named `{}`", name.get_ref())));
                    }
                    let what = format!("steps.{}", name.get_ref());
                    out.push(Step {
                        run: self.text(step.run, &format!("{what}.run"))?,
                        junit: step.junit.map(|j| self.text(j, &format!("{what}.junit"))).transpose()?,
                        retries: step.retries.unwrap_or(0),
                        timeout: step.timeout.map(|t| t.0),
                        env: self.env(step.env, &format!("{what}.env"))?,
                        name: self.text(name, "a step name")?,
                    });
                }
                Ok(out)
            }
        }
    }
}

/// The longest project name: it names report files and folders.
const MAX_PROJECT_NAME: usize = 100;
/// The longest step name: it names log files (`<step>.<attempt>.log`).
const MAX_STEP_NAME: usize = 64;

/// A step's name (or a setup's): it names log files and folders, so it is one path component
/// that is neither empty nor hidden.
pub(super) fn check_step_name(file: &SourceFile, name: &Spanned<String>, what: &str) -> Result<(), ConfigError> {
    let text = name.get_ref();
    if text.trim().is_empty() || text.contains(['/', '\\']) || text.starts_with('.') {
        return Err(file.error(name.span(), format!("{what} must not be empty, start with `.`, or contain `/`")));
    }
    if let Err(why) = path_component(text, MAX_STEP_NAME) {
        return Err(file.error(name.span(), format!("{what} {why}")));
    }
    Ok(())
}

/// Whether `name` can stand as one component of a path gridrun makes (a report file
/// `grid.<project>.html`, a log `<step>.log`): `Err` says why not.
fn path_component(name: &str, max: usize) -> Result<(), String> {
    if name.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else if name.contains(['/', '\\']) {
        Err("must not contain `/` or `\\`".into())
    } else if name == "." || name == ".." {
        Err("must not be `.` or `..`".into())
    } else if name.chars().any(char::is_control) {
        Err("must not hold control characters".into())
    } else {
        Ok(())
    }
}

/// Compiles every template once so a syntax error is reported at its place in the file.
fn check_template_syntax(matrix: &MatrixFile) -> Result<(), ConfigError> {
    let env = minijinja::Environment::new();
    let mut templates: Vec<(String, &Text)> = Vec::new();
    for step in &matrix.steps {
        let name = &step.name.value;
        templates.push((format!("steps.{name}.run"), &step.run));
        templates.extend(step.junit.iter().map(|j| (format!("steps.{name}.junit"), j)));
        templates.extend(step.env.iter().map(|(k, v)| (format!("steps.{name}.env.{k}"), v)));
    }
    templates.extend(matrix.env.iter().map(|(k, v)| (format!("env.{k}"), v)));
    for branch in &matrix.branches {
        templates.extend(branch.env.iter().map(|(k, v)| (format!("branches.\"{}\".env.{k}", branch.glob), v)));
    }
    templates.extend(matrix.artifacts.patterns.iter().map(|p| ("artifacts.patterns".to_string(), p)));
    for step in &matrix.pipeline {
        let what = format!("{}.{}", step.kind.table(), step.name.value);
        templates.push((format!("{what}.run"), &step.run));
        templates.extend(step.env.iter().map(|(k, v)| (format!("{what}.env.{k}"), v)));
    }
    for (key, text) in templates {
        if let Err(err) = env.template_from_str(&text.value) {
            let span = template_span(&matrix.file, text, err.range());
            return Err(matrix
                .file
                .error(span, format!("{key}: template error: {}", err.detail().unwrap_or("syntax error"))));
        }
    }
    Ok(())
}

/// Maps a byte range inside a template's text (escapes resolved) to the file's bytes, walking the
/// string as written; the whole value's span where the range cannot be mapped.
pub fn template_span(file: &SourceFile, text: &Text, range: Option<std::ops::Range<usize>>) -> std::ops::Range<usize> {
    let Some(range) = range else { return text.span.clone() };
    let written = file.slice(&text.span);
    let map = decoded_offsets(written);
    match (map.get(range.start), map.get(range.end)) {
        (Some(&start), Some(&end)) if start < end => text.span.start + start..text.span.start + end,
        _ => text.span.clone(),
    }
}

/// For a TOML string as written (quotes included), the offset in it of each byte of its value,
/// plus one past the end.
fn decoded_offsets(written: &str) -> Vec<usize> {
    let (open, literal) = if written.starts_with("\"\"\"") {
        (3, false)
    } else if written.starts_with("'''") {
        (3, true)
    } else if written.starts_with('\'') {
        (1, true)
    } else {
        (1, false)
    };
    let bytes = written.as_bytes();
    let end = written.len().saturating_sub(open);
    let mut i = open;
    // A newline right after the opening delimiter of a multi-line string is not part of it.
    if open == 3 && bytes.get(i) == Some(&b'\n') {
        i += 1;
    }
    let mut map = Vec::with_capacity(written.len());
    while i < end {
        if bytes[i] == b'\\' && !literal {
            let escape_len = match bytes.get(i + 1) {
                Some(b'u') => 6,
                Some(b'U') => 10,
                Some(b'\n' | b' ' | b'\t' | b'\r') => {
                    // A line-ending backslash swallows the newline and the white space after it.
                    let mut j = i + 1;
                    while j < end && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    i = j;
                    continue;
                }
                _ => 2,
            };
            let decoded = match bytes.get(i + 1) {
                Some(b'u' | b'U') => written
                    .get(i + 2..i + escape_len)
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32)
                    .map_or(1, char::len_utf8),
                _ => 1,
            };
            map.extend(std::iter::repeat_n(i, decoded));
            i += escape_len;
        } else {
            map.push(i);
            i += 1;
        }
    }
    map.push(i.min(end));
    map
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    project: Option<RawProject>,
    matrix: Option<RawMatrix>,
    limits: Option<RawLimits>,
    env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    steps: Option<Spanned<Vec<RawStep>>>,
    preset: Option<Spanned<String>>,
    artifacts: Option<RawArtifacts>,
    secrets: Option<Vec<Spanned<String>>>,
    ci: Option<super::ci::RawCi>,
    hosts: Option<super::hosts::RawMatrixHosts>,
    container: Option<super::container::RawContainer>,
    slurm: Option<super::slurm::RawSlurm>,
    branches: Option<super::branches::RawBranches>,
    coverage: Option<super::coverage::RawCoverage>,
    setup: Option<Vec<super::setup::RawSetup>>,
    finally: Option<Vec<super::setup::RawFinally>>,
    notify: Option<Vec<Spanned<super::notify::RawNotify>>>,
    cache: Option<super::cache::RawCache>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: Option<Spanned<String>>,
    source: Option<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: Option<PathBuf>,
    git: Option<Spanned<String>>,
    rev: Option<Spanned<String>>,
    depth: Option<Spanned<u32>>,
    submodules: Option<bool>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub(super) jobs: Option<Spanned<i64>>,
    pub(super) cpus: Option<Spanned<i64>>,
    pub(super) memory: Option<SizeValue>,
    pub(super) timeout: Option<DurationValue>,
    pub(super) kill_grace: Option<DurationValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Spanned<String>,
    run: Spanned<String>,
    junit: Option<Spanned<String>>,
    retries: Option<u32>,
    timeout: Option<DurationValue>,
    env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArtifacts {
    patterns: Option<Vec<Spanned<String>>>,
    retention_days: Option<u32>,
}

type RawEntry = Spanned<IndexMap<Spanned<String>, Spanned<Scalar>>>;

/// `[matrix]`: every key but `include` and `exclude` is an axis, kept in file order.
#[derive(Default)]
struct RawMatrix {
    axes: Vec<(Spanned<String>, Spanned<AxisValues>)>,
    include: Vec<RawEntry>,
    exclude: Vec<RawEntry>,
}

impl<'de> Deserialize<'de> for RawMatrix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MatrixVisitor;

        impl<'de> Visitor<'de> for MatrixVisitor {
            type Value = RawMatrix;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of axes, each an array of values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawMatrix, A::Error> {
                let mut matrix = RawMatrix::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    match key.get_ref().as_str() {
                        "include" => matrix.include = map.next_value::<EntryList<true>>()?.0,
                        "exclude" => matrix.exclude = map.next_value::<EntryList<false>>()?.0,
                        _ => matrix.axes.push((key, map.next_value()?)),
                    }
                }
                Ok(matrix)
            }
        }

        deserializer.deserialize_map(MatrixVisitor)
    }
}

/// `[[matrix.include]]` or `[[matrix.exclude]]`: an array of tables.
struct EntryList<const INCLUDE: bool>(Vec<RawEntry>);

impl<'de, const INCLUDE: bool> Deserialize<'de> for EntryList<INCLUDE> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<const INCLUDE: bool>;

        impl<'de, const INCLUDE: bool> Visitor<'de> for ListVisitor<INCLUDE> {
            type Value = EntryList<INCLUDE>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let name = if INCLUDE { "include" } else { "exclude" };
                write!(f, "an array of tables: write [[matrix.{name}]]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = seq.next_element()? {
                    entries.push(entry);
                }
                Ok(EntryList(entries))
            }

            fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Self::Value, A::Error> {
                let name = if INCLUDE { "include" } else { "exclude" };
                Err(de::Error::custom(format!("matrix.{name} must be an array of tables: write [[matrix.{name}]]")))
            }
        }

        deserializer.deserialize_any(ListVisitor::<INCLUDE>)
    }
}

/// An axis's values: an array of scalars.
struct AxisValues(Vec<Spanned<Scalar>>);

impl<'de> Deserialize<'de> for AxisValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor;

        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = AxisValues;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an array of values, like ["gcc-12", "clang-16"]"#)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AxisValues, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element()? {
                    values.push(value);
                }
                Ok(AxisValues(values))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<AxisValues, E> {
                Err(E::custom(format!(r#"an axis is an array of values: write ["{v}"]"#)))
            }
        }

        deserializer.deserialize_any(ValuesVisitor)
    }
}
