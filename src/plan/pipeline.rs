//! `[[setup]]` and `[[finally]]` as jobs: which setup instances the selected cells need (one per
//! distinct value of the setup's `per` keys), their slugs and output folders, and each rendered
//! into a [`RenderedJob`] of one step, so the scheduler, executors and store run and record them
//! exactly as they do cells.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::Value;
use rustc_hash::FxHashMap;

use super::template::{SiteKind, TemplateSite, Templates};
use super::{ConfigHash, Job, Plan, RenderedJob, RenderedStep, Roots};
use crate::config::{ConfigError, MatrixFile, PipelineKind, Scalar};
use crate::matrix::{assign_slugs, Cell};
use crate::toolchain::{keys, Availability, ResolvedToolchain};

/// One setup instance or finally step of a plan.
#[derive(Clone, Debug)]
pub struct PipelineJob {
    /// Its table.
    pub kind: PipelineKind,
    /// Its entry in `matrix.pipeline`.
    pub step: usize,
    /// The entry's name.
    pub name: String,
    /// The values of its `per` keys this instance runs for, in the order `per` names them.
    pub per: Cell,
    /// Its slug: `setup@NAME-VALUES…` or `finally@NAME`, never a cell's (a cell's slug holds no
    /// `@`).
    pub slug: String,
    /// The toolchain its `per` values name (that of the first cell needing it), where `per`
    /// names `compiler`.
    pub tools: Option<Arc<ResolvedToolchain>>,
}

impl PipelineJob {
    /// `setup \`deps\` (compiler=gcc-12)`, for reasons and reports.
    pub fn describe(&self) -> String {
        let values = self.per.describe();
        if values.is_empty() {
            format!("{} `{}`", self.kind.table(), self.name)
        } else {
            format!("{} `{}` ({values})", self.kind.table(), self.name)
        }
    }
}

/// The templates of `[[setup]]` and `[[finally]]`, two or more per entry: its `run`, then its
/// env values; after every entry's, the file's `[env]` values, which each of them gets where it
/// renders with what that job has.
pub(super) fn sites(matrix: &MatrixFile) -> Vec<TemplateSite> {
    let mut sites = Vec::new();
    for step in &matrix.pipeline {
        let what = format!("{}.{}", step.kind.table(), step.name.value);
        sites.push(TemplateSite { what: format!("{what}.run"), text: step.run.clone(), kind: SiteKind::Command });
        for (key, value) in &step.env {
            sites.push(TemplateSite { what: format!("{what}.env.{key}"), text: value.clone(), kind: SiteKind::Env });
        }
    }
    for (key, value) in &matrix.env {
        sites.push(TemplateSite { what: format!("env.{key}"), text: value.clone(), kind: SiteKind::Env });
    }
    sites
}

/// The setup instances `jobs` need (each ready job's list in `Job::setups` is filled in), then
/// every finally step. A cell needs a setup where it has a value for each of its `per` keys.
pub(super) fn instances(matrix: &MatrixFile, jobs: &mut [Job]) -> Vec<PipelineJob> {
    let mut out: Vec<PipelineJob> = Vec::new();
    let mut index: FxHashMap<(usize, Vec<String>), usize> = FxHashMap::default();
    for job in jobs.iter_mut().filter(|j| j.availability == Availability::Ready) {
        for (step, setup) in matrix.pipeline.iter().enumerate().filter(|(_, s)| s.kind == PipelineKind::Setup) {
            let values: Option<Vec<(Arc<str>, Scalar)>> = setup
                .per
                .iter()
                .map(|(key, _)| job.cell.get(key).map(|v| (Arc::from(key.as_str()), v.clone())))
                .collect();
            let Some(values) = values else { continue };
            let key = (step, values.iter().map(|(_, v)| v.as_str().to_string()).collect());
            let at = *index.entry(key).or_insert_with(|| {
                let names_compiler = setup.per.iter().any(|(k, _)| k == keys::COMPILER);
                out.push(PipelineJob {
                    kind: PipelineKind::Setup,
                    step,
                    name: setup.name.value.clone(),
                    per: Cell::new(values),
                    slug: String::new(),
                    tools: names_compiler.then(|| Arc::clone(&job.tools)),
                });
                out.len() - 1
            });
            job.setups.push(at);
        }
    }
    // Setups in file order, each's instances in the order cells first needed them.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by_key(|&i| out[i].step);
    let mut renumber = vec![0; out.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    let mut sorted: Vec<PipelineJob> = order.iter().map(|&i| out[i].clone()).collect();
    for job in jobs.iter_mut() {
        for at in &mut job.setups {
            *at = renumber[*at];
        }
    }
    for (step, finally) in matrix.pipeline.iter().enumerate().filter(|(_, s)| s.kind == PipelineKind::Finally) {
        sorted.push(PipelineJob {
            kind: PipelineKind::Finally,
            step,
            name: finally.name.value.clone(),
            per: Cell::default(),
            slug: String::new(),
            tools: None,
        });
    }
    // Slugged together so two names that clean up alike still differ.
    let cells: Vec<Cell> = sorted
        .iter()
        .map(|p| {
            let mut values = vec![(Arc::from("name"), Scalar::string(p.name.as_str()))];
            values.extend(p.per.iter().map(|(k, v)| (Arc::from(k), v.clone())));
            Cell::new(values)
        })
        .collect();
    for (job, slug) in sorted.iter_mut().zip(assign_slugs(&cells)) {
        job.slug = format!("{}@{slug}", job.kind.table());
    }
    sorted
}

impl Plan {
    /// A setup instance's output folder (`{{ setup_dir }}`, and `{{ setup.NAME }}` for its
    /// cells) under `roots`: beside the job folders, outliving the setup's own workspace.
    pub fn setup_dir(&self, pipeline: &PipelineJob, roots: &Roots) -> PathBuf {
        roots.work.join(format!("{}.out", pipeline.slug))
    }

    /// `{{ setup }}` for a cell: each setup it needs, by name, to that instance's folder.
    pub(super) fn setup_value(&self, job: &Job, roots: &Roots) -> Option<Value> {
        if !self.matrix.pipeline.iter().any(|s| s.kind == PipelineKind::Setup) {
            return None;
        }
        // Every setup whose `per` keys the cell has; a cell that will not run here has no
        // instance, but its templates are checked all the same.
        let map: BTreeMap<String, String> = self
            .matrix
            .pipeline
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == PipelineKind::Setup && s.per.iter().all(|(k, _)| job.cell.get(k).is_some()))
            .map(|(step, s)| {
                let dir = job.setups.iter().filter_map(|&i| self.pipeline.get(i)).find(|p| p.step == step).map_or_else(
                    || roots.work.join(format!("setup@{}.out", s.name.value)),
                    |p| self.setup_dir(p, roots),
                );
                (s.name.value.clone(), dir.display().to_string())
            })
            .collect();
        Some(map_value(map))
    }

    fn pipeline_context(
        &self,
        pipeline: &PipelineJob,
        run: u64,
        commit: &str,
        roots: &Roots,
        run_json: &Path,
    ) -> Value {
        let mut vars: BTreeMap<&str, Value> = BTreeMap::new();
        for (key, value) in pipeline.per.iter() {
            vars.insert(key, value.to_template_value());
        }
        let cell: BTreeMap<&str, Value> = pipeline.per.iter().map(|(k, v)| (k, v.to_template_value())).collect();
        vars.insert("cell", map_value(cell));
        if let Some(tools) = &pipeline.tools {
            vars.insert("cc", Value::from(tools.cc.as_str()));
            vars.insert("cxx", Value::from(tools.cxx.as_str()));
            vars.insert("compiler_family", Value::from(tools.compiler_family.as_str()));
            vars.insert("compiler_version", Value::from(tools.compiler_version.as_str()));
            if let Some(llvm) = &tools.llvm_config {
                vars.insert("llvm_config", Value::from(llvm.as_str()));
            }
        }
        let source = roots.source.clone().unwrap_or_else(|| roots.work.join(&pipeline.slug).join("src"));
        vars.insert("source", Value::from(source.display().to_string()));
        vars.insert("cache_dir", Value::from(roots.cache.display().to_string()));
        vars.insert("cpus", Value::from(self.matrix.limits.cpus));
        vars.insert("run", Value::from(run));
        vars.insert("commit", Value::from(commit));
        vars.insert("job", Value::from(pipeline.slug.as_str()));
        match pipeline.kind {
            PipelineKind::Setup => {
                vars.insert("setup_dir", Value::from(self.setup_dir(pipeline, roots).display().to_string()));
            }
            PipelineKind::Finally => {
                vars.insert("run_json", Value::from(run_json.display().to_string()));
            }
        }
        map_value(vars)
    }

    /// The sites of `pipeline`'s entry in [`Plan::pipeline_templates`]: its `run`, then its env.
    fn pipeline_sites(&self, pipeline: &PipelineJob) -> std::ops::Range<usize> {
        let start: usize = self.matrix.pipeline[..pipeline.step].iter().map(|s| 1 + s.env.len()).sum();
        start..start + 1 + self.matrix.pipeline[pipeline.step].env.len()
    }

    /// Renders a setup instance or finally step for run `run`, on this host, as a job of one
    /// step; `run_json` is where a finally step finds the run's JSON.
    pub fn render_pipeline(
        &self,
        pipeline: &PipelineJob,
        run: u64,
        commit: &str,
        roots: &Roots,
        run_json: &Path,
    ) -> Result<RenderedJob, ConfigError> {
        let entry = &self.matrix.pipeline[pipeline.step];
        let context = self.pipeline_context(pipeline, run, commit, roots, run_json);
        let mut rendered = Vec::new();
        for i in self.pipeline_sites(pipeline) {
            let text = self.pipeline_templates.render(i, &context, &self.matrix, &pipeline.slug)?;
            let site = &self.pipeline_templates.sites()[i];
            if text.contains('\0') {
                return Err(self.matrix.file.error(
                    site.text.span.clone(),
                    format!("{}: renders to text holding a NUL character for {}", site.what, pipeline.slug),
                ));
            }
            if site.kind == SiteKind::Command && text.trim().is_empty() {
                return Err(self.matrix.file.error(
                    site.text.span.clone(),
                    format!("{}: renders to an empty command for {}", site.what, pipeline.slug),
                ));
            }
            rendered.push(text);
        }
        let mut rendered = rendered.into_iter();
        let command = rendered.next().unwrap_or_default();
        let step_env = entry.env.iter().map(|(k, _)| k.clone()).zip(rendered).collect();
        let work_dir = roots.work.join(&pipeline.slug);
        let source = roots.source.clone().unwrap_or_else(|| work_dir.join("src"));
        let cpus = self.matrix.limits.cpus;
        let tools = pipeline.tools.clone().unwrap_or_default();
        let tools = Arc::clone(&tools);
        let mut env: Vec<(String, String)> = vec![
            ("GRIDRUN_CPUS".into(), cpus.to_string()),
            ("CMAKE_BUILD_PARALLEL_LEVEL".into(), cpus.to_string()),
            ("MAKEFLAGS".into(), format!("-j{cpus}")),
            ("CTEST_PARALLEL_LEVEL".into(), cpus.to_string()),
        ];
        if pipeline.tools.is_some() {
            env.push(("CC".into(), tools.cc.clone()));
            env.push(("CXX".into(), tools.cxx.clone()));
        }
        env.push(("GRIDRUN_JOB".into(), pipeline.slug.clone()));
        env.push(("GRIDRUN_RUN".into(), run.to_string()));
        let mut make_dirs = Vec::new();
        match pipeline.kind {
            PipelineKind::Setup => {
                let dir = self.setup_dir(pipeline, roots);
                env.push(("GRIDRUN_SETUP_DIR".into(), dir.display().to_string()));
                make_dirs.push(dir);
            }
            PipelineKind::Finally => env.push(("GRIDRUN_RUN_JSON".into(), run_json.display().to_string())),
        }
        // The file's `[env]`, each value that renders with what this job has (one naming a cell's
        // value has nothing to be for a setup per compiler, or for finally): cells check them.
        let file_env = self.pipeline_templates.sites().len() - self.matrix.env.len();
        for (i, (key, _)) in self.matrix.env.iter().enumerate() {
            if let Ok(value) = self.pipeline_templates.render(file_env + i, &context, &self.matrix, &pipeline.slug) {
                env.push((key.clone(), value));
            }
        }
        let mut limits = self.matrix.limits.clone();
        limits.timeout = entry.timeout.or(limits.timeout);
        Ok(RenderedJob {
            job: Job {
                slug: pipeline.slug.clone(),
                cell: pipeline.per.clone(),
                availability: Availability::Ready,
                tools: Arc::clone(&tools),
                config_hash: ConfigHash(0),
                allow_failure: false,
                places: vec![0],
                setups: Vec::new(),
            },
            source,
            build_dir: work_dir.join("build"),
            results_dir: work_dir.join("results"),
            work_dir,
            env,
            steps: vec![RenderedStep {
                name: entry.name.value.clone(),
                command,
                junit: None,
                retries: 0,
                timeout: entry.timeout,
                env: step_env,
            }],
            artifacts: Vec::new(),
            base_dir: self.matrix.dir.clone(),
            make_dirs,
            limits,
            first_attempt: 1,
            notes: Vec::new(),
            coverage: None,
            ccache_stats: None,
        })
    }

    /// Renders every setup instance and finally step once, so a wrong variable shows at `plan`.
    pub(super) fn validate_pipeline(&self) -> Result<(), ConfigError> {
        let roots = self.local_roots(0);
        let run_json = roots.work.join("run.json");
        for pipeline in &self.pipeline {
            self.render_pipeline(pipeline, 0, &self.commit, &roots, &run_json)?;
        }
        Ok(())
    }
}

/// The templates of `[[setup]]` and `[[finally]]`, compiled.
pub(super) fn compile(matrix: &MatrixFile) -> Result<Templates, ConfigError> {
    Templates::compile(matrix, sites(matrix))
}

/// A template map of `pairs` (`Value::from_iter` over pairs would make a list of them).
fn map_value<K: Into<Value>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Value {
    Value::from_object(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect::<BTreeMap<Value, Value>>())
}
