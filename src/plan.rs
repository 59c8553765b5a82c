//! The resolved level of configuration: each cell of a matrix file as a job on this host, with its
//! slug, whether it can run here and why not, its toolchain, its config hash, and (for a run) its
//! steps and environment rendered.

mod hash;
mod machines;
mod pipeline;
mod template;

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{ConfigError, Engine, HostConfig, Limits, MatrixFile, Source};
use crate::matrix::{assign_slugs, expand, Cell, CellFilter, FilterError};
use crate::toolchain::{keys, resolve_cell, Availability, Host, ResolvedToolchain, Standard};

pub use hash::ConfigHash;
pub use machines::{list_hosts, BuildHost, HostListing, Image, Machines, Reached};
pub use pipeline::PipelineJob;
pub use template::{JobContext, SiteKind, TemplateSite, Templates, BUILTINS};

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file is wrong (a template names an undefined variable, say).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A `-f` or `--cell` is wrong.
    #[error("{0}")]
    Filter(#[from] FilterError),
}

/// One cell as a job on this host.
#[derive(Clone, Debug)]
pub struct Job {
    /// The cell's slug, unique within the matrix.
    pub slug: String,
    /// The values the file gave the cell.
    pub cell: Cell,
    /// Whether this host can run it.
    pub availability: Availability,
    /// The toolchain it resolved to (shared by every job with the same toolchain).
    pub tools: Arc<ResolvedToolchain>,
    /// A hash over everything that decides the job's result.
    pub config_hash: ConfigHash,
    /// `allow_failure = true`: its failure fails neither the run nor the fan-out.
    pub allow_failure: bool,
    /// The places (in [`Plan::places`]) that can run it, in order of preference; none where it
    /// is not ready.
    pub places: Vec<usize>,
    /// The setup instances (in [`Plan::pipeline`]) it needs, which must pass before it runs.
    pub setups: Vec<usize>,
}

/// A matrix file planned on this host.
#[derive(Debug)]
pub struct Plan {
    /// The file.
    pub matrix: MatrixFile,
    /// The state folder.
    pub state_dir: PathBuf,
    /// The source's commit (empty where the source is not a git checkout); for a git source, its
    /// `rev` until the run fetches it.
    pub commit: String,
    /// Whether a path source had uncommitted changes when it was planned.
    pub dirty: bool,
    /// The branch the run builds: a path source's checked-out branch, a git source's `rev`;
    /// `[branches."GLOB"]` settings for it are applied to `matrix`.
    pub branch: Option<String>,
    /// The source's revision as `--if-changed` compares it: a path source's commit, with a digest
    /// of its uncommitted changes after a `+` where it has any.
    pub revision: String,
    /// What makes two runs "the same configuration" for `--if-changed`: a digest of the project,
    /// the matrix file, the branch and the jobs selected.
    pub config_key: String,
    /// How many cells the matrix has before filters.
    pub total_cells: usize,
    /// The jobs that pass the filters, in matrix order.
    pub jobs: Vec<Job>,
    /// Where the filters left no job: why, a line per filter that matched nothing.
    pub unmatched: Vec<String>,
    templates: Templates,
    /// The setup instances the jobs need, then the finally steps.
    pub pipeline: Vec<PipelineJob>,
    pipeline_templates: Templates,
    /// Where its jobs may run: this host first, then the build hosts, then the images.
    pub places: Vec<PlaceSpec>,
    /// Compiles go through ccache: `[cache] ccache = true` and this host has it.
    pub ccache: bool,
}

/// Somewhere a plan's jobs may run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlaceSpec {
    /// This host's own processes.
    Local,
    /// A build host.
    Host(HostConfig),
    /// A container image, on this host.
    Image {
        /// The image as the cell named it.
        name: String,
        /// Its digest.
        digest: String,
        /// The engine that runs it.
        engine: Engine,
    },
}

impl PlaceSpec {
    /// Its name in plans and records: `local`, the host's, the image's.
    pub fn name(&self) -> &str {
        match self {
            Self::Local => "local",
            Self::Host(config) => &config.name,
            Self::Image { name, .. } => name,
        }
    }
}

/// A step rendered for one job.
#[derive(Clone, Debug)]
pub struct RenderedStep {
    /// The step's name.
    pub name: String,
    /// The shell command.
    pub command: String,
    /// The JUnit file it writes, if any.
    pub junit: Option<PathBuf>,
    /// How many times it is retried on failure.
    pub retries: u32,
    /// Its own time limit.
    pub timeout: Option<Duration>,
    /// Its own environment, on top of the job's.
    pub env: Vec<(String, String)>,
}

/// The folders one job works in.
#[derive(Clone, Debug)]
pub struct JobPaths {
    /// The checkout it builds.
    pub source: PathBuf,
    /// Its workspace, holding the build and results folders.
    pub work_dir: PathBuf,
    /// Its build folder.
    pub build_dir: PathBuf,
    /// Its results folder.
    pub results_dir: PathBuf,
}

/// A job with everything rendered, ready for the executor.
#[derive(Clone, Debug)]
pub struct RenderedJob {
    /// The job.
    pub job: Job,
    /// The checkout it builds.
    pub source: PathBuf,
    /// Its workspace: build and results folders live here.
    pub work_dir: PathBuf,
    /// Its build folder.
    pub build_dir: PathBuf,
    /// Its results folder.
    pub results_dir: PathBuf,
    /// The environment every step gets: the file's `[env]`, CPU settings, `CC`/`CXX`.
    pub env: Vec<(String, String)>,
    /// The steps, in order.
    pub steps: Vec<RenderedStep>,
    /// Artifact patterns, relative to `base_dir` where not absolute.
    pub artifacts: Vec<String>,
    /// The matrix file's folder: relative paths are relative to it (DESIGN §1).
    pub base_dir: PathBuf,
    /// The folders to create before the first step: those the templates name.
    pub make_dirs: Vec<PathBuf>,
    /// The file's limits.
    pub limits: Limits,
    /// The number of its first step attempts: 1, or more for a job run again elsewhere after the
    /// place it ran was lost (the lost attempts keep theirs).
    pub first_attempt: u32,
    /// What its record says before anything it ran: why it runs again, say.
    pub notes: Vec<String>,
    /// For a coverage cell, the summary its last step (`coverage`, gcovr) writes, and the least
    /// line coverage it must reach.
    pub coverage: Option<(PathBuf, Option<f64>)>,
    /// The statistics log its compiles append to where they go through ccache.
    pub ccache_stats: Option<PathBuf>,
}

/// Where a run's jobs work: each job's folder is `work/<slug>`; the source is a path source's
/// folder (where that machine has it) or each job's own checkout, `work/<slug>/src`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roots {
    /// The run's work folder.
    pub work: PathBuf,
    /// A path source's folder there; `None`: each job checks out its own.
    pub source: Option<PathBuf>,
    /// The cache shared by runs (`{{ cache_dir }}`).
    pub cache: PathBuf,
}

/// Why a selection holds no job, for the error that says so; `None` where some plan has one.
pub fn nothing_selected(plans: &[Plan]) -> Option<String> {
    if plans.iter().any(|p| !p.jobs.is_empty()) {
        return None;
    }
    let mut why: Vec<&str> = plans.iter().flat_map(|p| p.unmatched.iter().map(String::as_str)).collect();
    why.dedup();
    Some(if why.is_empty() {
        "the selection holds no cell".to_string()
    } else {
        format!("the selection holds no cell: {}", why.join("; "))
    })
}

/// Plans every file of a selection. One file must know every `-f` key and the `--cell` slug; in
/// a folder of files, a file that does not is left out (its project has no such cells), and only
/// a filter no file knows is an error.
pub fn build_all(
    files: Vec<(MatrixFile, SourceState)>,
    machines: &mut Machines,
    filter: &CellFilter,
    state_dir: &Path,
    folder: bool,
) -> Result<Vec<Plan>, PlanError> {
    let mut plans = Vec::with_capacity(files.len());
    let mut first_miss: Option<PlanError> = None;
    for (file, source) in files {
        match Plan::build(file, source, machines, filter, state_dir) {
            Ok(plan) => plans.push(plan),
            Err(e @ PlanError::Filter(_)) if folder => {
                first_miss.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(miss) = first_miss.filter(|_| plans.is_empty()) {
        return Err(miss);
    }
    let found: Vec<&str> = plans.iter().flat_map(|p| p.jobs.iter().map(|j| j.slug.as_str())).collect();
    filter.missing_cells(&found)?;
    Ok(plans)
}

/// `--if-changed`'s "same configuration": the project, the matrix file's text, the branch and the
/// slugs selected — not the source's revision, which is what it compares.
fn config_key(matrix: &MatrixFile, branch: Option<&str>, jobs: &[Job]) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for part in [matrix.project.name.as_str(), &matrix.file.text, branch.unwrap_or("")] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    for job in jobs {
        digest.update(job.slug.as_bytes());
        digest.update([0]);
    }
    crate::text::hex(&digest.finalize()[..8])
}

/// Where a matrix file's source stands: what its jobs' config hashes and `--if-changed` key on.
#[derive(Clone, Debug, Default)]
pub struct SourceState {
    /// The commit (a folder's checked-out one; a git source's `rev`, or `HEAD`).
    pub commit: String,
    /// A digest of a folder's uncommitted changes; `None` for a clean tree or a git source.
    pub changes: Option<String>,
    /// Whether git said the folder has uncommitted changes (`changes` may still be `None`: a
    /// digest git could not make).
    pub dirty: bool,
    /// The branch built, where there is one.
    pub branch: Option<String>,
}

impl SourceState {
    /// Asks git where `matrix`'s source folder stands (one process for a clean tree; the changes
    /// are read only where there are some), `state_dir` not counted; a git source's `rev` says
    /// it without asking.
    pub fn of(matrix: &MatrixFile, state_dir: &Path) -> Self {
        match &matrix.project.source {
            Source::Path(dir) => {
                let state = crate::vcs::state(dir, Some(state_dir)).unwrap_or_default();
                let changes = state.dirty.then(|| crate::vcs::changes_digest(dir, Some(state_dir))).flatten();
                Self { commit: state.commit, changes, dirty: state.dirty, branch: state.branch }
            }
            Source::Git { rev, .. } => Self {
                commit: rev.clone().unwrap_or_else(|| "HEAD".into()),
                changes: None,
                dirty: false,
                branch: rev
                    .as_deref()
                    .filter(|r| !crate::vcs::is_commit_id(r) && *r != "HEAD")
                    .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r).to_string()),
            },
        }
    }

    /// Each of `files` with where its source stands, and what `meanwhile` returned: git is asked
    /// on a thread of its own while `meanwhile` runs (listing this host's compilers, which takes
    /// about as long). Without `ask_git`, a folder stands nowhere in particular (no commit, no
    /// branch), for a caller that shows none of it.
    pub fn of_each<T>(
        files: Vec<MatrixFile>,
        state_dir: &Path,
        ask_git: bool,
        meanwhile: impl FnOnce(&[MatrixFile]) -> T,
    ) -> (Vec<(MatrixFile, Self)>, T) {
        let of = |file: &MatrixFile| match &file.project.source {
            Source::Path(_) if !ask_git => Self::default(),
            _ => Self::of(file, state_dir),
        };
        let (sources, value) = std::thread::scope(|scope| {
            let sources = scope.spawn(|| files.iter().map(of).collect::<Vec<_>>());
            let value = meanwhile(&files);
            (sources.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), value)
        });
        (files.into_iter().zip(sources).collect(), value)
    }
}

impl Plan {
    /// Expands `matrix` (its `[branches]` rules applied for `source`'s branch), resolves every
    /// cell on `host`, keeps the cells `filter` passes, and renders every template of every kept
    /// job so a mistake shows now rather than mid-run.
    pub fn build(
        mut matrix: MatrixFile,
        source: SourceState,
        machines: &mut Machines,
        filter: &CellFilter,
        state_dir: &Path,
    ) -> Result<Self, PlanError> {
        if let Some(branch) = &source.branch {
            matrix.apply_branch(branch);
        }
        Self::build_at(matrix, machines, filter, state_dir, source)
    }

    /// As [`Plan::build`], with the branch's settings already applied to `matrix`.
    fn build_at(
        matrix: MatrixFile,
        machines: &mut Machines,
        filter: &CellFilter,
        state_dir: &Path,
        source: SourceState,
    ) -> Result<Self, PlanError> {
        let SourceState { commit, changes, dirty, branch } = source;
        check_reserved_names(&matrix)?;
        let mut cells = expand(&matrix.axes, &matrix.exclude, &matrix.include);
        // The switch is the cell's setting, not one of its values (checked a boolean at load).
        let allowed: Vec<bool> = cells
            .iter_mut()
            .map(|cell| cell.take(keys::ALLOW_FAILURE).and_then(|v| v.as_bool()).unwrap_or(false))
            .collect();
        let slugs = assign_slugs(&cells);
        filter.check(&cells, &slugs)?;
        let total_cells = cells.len();
        let mut unmatched = Vec::new();
        let picked: Vec<(Cell, String, bool)> = if filter.is_active() {
            let picked: Vec<(Cell, String, bool)> = cells
                .iter()
                .zip(&slugs)
                .zip(&allowed)
                .filter(|((c, s), _)| filter.matches(c, s))
                .map(|((c, s), a)| (c.clone(), s.clone(), *a))
                .collect();
            if picked.is_empty() {
                unmatched = filter.why_nothing(&cells);
            }
            picked
        } else {
            cells.into_iter().zip(slugs).zip(allowed).map(|((c, s), a)| (c, s, a)).collect()
        };
        let images = cell_images(&matrix, picked.iter().map(|(c, _, _)| c))?;
        let mut places = vec![PlaceSpec::Local];
        places.extend(machines.hosts.iter().map(|h| PlaceSpec::Host(h.config.clone())));
        learn_what_cells_need(&mut machines.local, picked.iter().map(|(c, _, _)| c));
        for host in machines.hosts.iter_mut().filter_map(|h| h.state.as_mut().ok()) {
            learn_what_cells_need(&mut host.host, picked.iter().map(|(c, _, _)| c));
        }
        // Each image a cell names is probed once and learns what its cells need.
        let mut image_places: FxHashMap<&str, Result<usize, String>> = FxHashMap::default();
        for (image, cells) in group_by_image(&images, &picked) {
            let found = match machines.image(image, matrix.container.engine) {
                Ok(found) => {
                    places.push(PlaceSpec::Image {
                        name: found.name.clone(),
                        digest: found.digest.clone(),
                        engine: found.engine,
                    });
                    Ok(places.len() - 1)
                }
                Err(why) => Err(why.to_string()),
            };
            if let Some(found) = machines.image_mut(image) {
                learn_what_cells_need(&mut found.host, cells.into_iter());
            }
            image_places.insert(image, found);
        }

        let templates = Templates::compile(&matrix, template_sites(&matrix))?;
        let hasher = hash::ConfigHasher::new(&matrix, &commit, changes.as_deref());
        // Cells that share platform, compiler, standard, LLVM and image share a routing.
        let mut resolved: FxHashMap<[Option<&str>; 7], Routing> = FxHashMap::default();
        let resolutions: Vec<Routing> = picked
            .iter()
            .zip(&images)
            .map(|((cell, _, _), image)| {
                let mut key = [
                    keys::PLATFORM,
                    keys::COMPILER,
                    keys::CXX_STANDARD,
                    keys::LLVM,
                    keys::SANITIZER,
                    keys::COVERAGE,
                    "",
                ]
                .map(|k| cell.text(k));
                key[6] = image.as_deref();
                resolved.entry(key).or_insert_with(|| route(cell, image.as_deref(), machines, &image_places)).clone()
            })
            .collect();
        drop(resolved);
        let mut jobs = picked
            .into_iter()
            .zip(resolutions)
            .map(|((cell, slug, allow_failure), routing)| {
                let config_hash = hasher.hash(&cell, &routing.tools);
                Job {
                    slug,
                    cell,
                    availability: routing.availability,
                    tools: routing.tools,
                    config_hash,
                    allow_failure,
                    places: routing.places,
                    setups: Vec::new(),
                }
            })
            .collect::<Vec<Job>>();
        let pipeline = pipeline::instances(&matrix, &mut jobs);
        for job in jobs.iter_mut().filter(|j| !j.setups.is_empty()) {
            // A setup's output is made on this host, so the cells that read it run here too.
            job.places.retain(|&p| p == 0);
            if job.places.is_empty() {
                job.availability = Availability::Unavailable(
                    "it needs a [[setup]]'s output, which is made on this host, and this host cannot run it".into(),
                );
            }
        }
        let pipeline_templates = pipeline::compile(&matrix)?;
        let revision = match &changes {
            Some(changes) => format!("{commit}+{changes}"),
            None => commit.clone(),
        };
        let config_key = config_key(&matrix, branch.as_deref(), &jobs);
        let ccache = matrix.cache.ccache && crate::ccache::installed();
        let plan = Self {
            matrix,
            state_dir: state_dir.to_path_buf(),
            commit,
            dirty,
            branch,
            revision,
            config_key,
            total_cells,
            jobs,
            unmatched,
            templates,
            pipeline,
            pipeline_templates,
            places,
            ccache,
        };
        plan.validate_templates()?;
        plan.validate_pipeline()?;
        Ok(plan)
    }

    /// The folders a job of run `run` works in, on this host.
    pub fn paths(&self, job: &Job, run: u64) -> JobPaths {
        self.paths_in(job, run, &self.local_roots(run))
    }

    /// Where run `run`'s jobs work on this host: the state folder's `work/<run>` and `cache`.
    pub fn local_roots(&self, run: u64) -> Roots {
        Roots {
            work: self.state_dir.join("work").join(run.to_string()),
            source: match &self.matrix.project.source {
                Source::Path(dir) => Some(dir.clone()),
                Source::Git { .. } => None,
            },
            cache: self.state_dir.join("cache"),
        }
    }

    /// The folders a job of run `run` works in under `roots`.
    pub fn paths_in(&self, job: &Job, _run: u64, roots: &Roots) -> JobPaths {
        let work_dir = roots.work.join(&job.slug);
        let source = roots.source.clone().unwrap_or_else(|| work_dir.join("src"));
        JobPaths { source, build_dir: work_dir.join("build"), results_dir: work_dir.join("results"), work_dir }
    }

    fn context(&self, job: &Job, run: u64, commit: &str, roots: &Roots) -> minijinja::Value {
        let paths = self.paths_in(job, run, roots);
        JobContext {
            cell: job.cell.clone(),
            tools: job.tools.clone(),
            source: paths.source.display().to_string(),
            build_dir: paths.build_dir.display().to_string(),
            results_dir: paths.results_dir.display().to_string(),
            cache_dir: roots.cache.display().to_string(),
            cpus: self.matrix.limits.cpus,
            job: job.slug.clone(),
            run,
            commit: commit.to_string(),
            setup: self.setup_value(job, roots),
            ccache: if self.ccache { crate::ccache::PROGRAM } else { "" },
        }
        .into_value()
    }

    /// Renders one job for run `run` building `commit` (for a git source, the revision the run
    /// resolved), to run on this host.
    pub fn render(&self, job: &Job, run: u64, commit: &str) -> Result<RenderedJob, ConfigError> {
        self.render_in(job, run, commit, &self.local_roots(run))
    }

    /// Renders one job's steps, environment and artifact patterns for run `run` building
    /// `commit`, to run where `roots` say its folders are (a build host's differ from this one's).
    pub fn render_in(&self, job: &Job, run: u64, commit: &str, roots: &Roots) -> Result<RenderedJob, ConfigError> {
        let JobPaths { source, work_dir, build_dir, results_dir } = self.paths_in(job, run, roots);
        let cpus = self.matrix.limits.cpus;
        let context = self.context(job, run, commit, roots);
        let mut rendered = (0..self.templates.sites().len())
            .map(|i| self.templates.render(i, &context, &self.matrix, &job.slug))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter();
        let mut next = || rendered.next().expect("one rendering per site");

        let mut steps = Vec::with_capacity(self.matrix.steps.len());
        for step in &self.matrix.steps {
            let command = next();
            // A relative path is where the step, which runs in the source, wrote it.
            let junit = step.junit.as_ref().map(|_| source.join(next()));
            let env = step.env.iter().map(|(k, _)| (k.clone(), next())).collect();
            steps.push(RenderedStep {
                name: step.name.value.clone(),
                command,
                junit,
                retries: step.retries,
                timeout: step.timeout,
                env,
            });
        }
        let mut env: Vec<(String, String)> = vec![
            ("GRIDRUN_CPUS".into(), cpus.to_string()),
            ("CMAKE_BUILD_PARALLEL_LEVEL".into(), cpus.to_string()),
            ("MAKEFLAGS".into(), format!("-j{cpus}")),
            ("CTEST_PARALLEL_LEVEL".into(), cpus.to_string()),
            ("CC".into(), job.tools.cc.clone()),
            ("CXX".into(), job.tools.cxx.clone()),
            ("GRIDRUN_JOB".into(), job.slug.clone()),
            ("GRIDRUN_RUN".into(), run.to_string()),
        ];
        if let Some(dir) = &job.tools.llvm_dir {
            env.push(("LLVM_DIR".into(), dir.clone()));
        }
        let added = job.tools.added_flags();
        if !added.is_empty() {
            for var in ["CFLAGS", "CXXFLAGS", "LDFLAGS"] {
                env.push((var.into(), added.clone()));
            }
        }
        env.extend(job.tools.sanitizer_env.iter().cloned());
        let ccache_stats = self.ccache.then(|| work_dir.join(crate::ccache::STATS_LOG));
        if let Some(log) = &ccache_stats {
            let cache = crate::ccache::dir(&roots.cache, &job.tools);
            env.extend(crate::ccache::env(&cache, &source, log, self.matrix.cache.max_size));
        }
        // The file's own `[env]` comes last: it may set any of the above its own way.
        for (key, _) in &self.matrix.env {
            env.push((key.clone(), next()));
        }
        let artifacts = self.matrix.artifacts.patterns.iter().map(|_| next()).collect();
        // A coverage cell ends with gcovr summarising what its own folder's runs wrote.
        let coverage = job.tools.gcov.as_ref().map(|gcov| {
            use crate::remote::ssh::quote;
            let summary = results_dir.join("coverage.json");
            steps.push(RenderedStep {
                name: "coverage".into(),
                command: format!(
                    "mkdir -p {results} && gcovr --root {root} --gcov-executable {gcov} --json-summary {summary} --print-summary {work}",
                    results = quote(&results_dir.display().to_string()),
                    root = quote(&source.display().to_string()),
                    gcov = quote(gcov),
                    summary = quote(&summary.display().to_string()),
                    work = quote(&work_dir.display().to_string()),
                ),
                junit: None,
                retries: 0,
                timeout: None,
                env: Vec::new(),
            });
            (summary, self.matrix.coverage.min_line)
        });
        // Only the folders some template names are made: a job that never mentions build_dir
        // costs no mkdir (metadata operations dominate tiny jobs on slow disks).
        let mut make_dirs: Vec<PathBuf> = [("build_dir", &build_dir), ("results_dir", &results_dir)]
            .into_iter()
            .filter(|(var, _)| self.templates.any_reads(var))
            .map(|(_, dir)| dir.clone())
            .collect();
        // ccache appends to its statistics log but makes no folder for it.
        if ccache_stats.is_some() && make_dirs.is_empty() {
            make_dirs.push(work_dir.clone());
        }
        Ok(RenderedJob {
            job: job.clone(),
            source,
            work_dir,
            build_dir,
            results_dir,
            env,
            steps,
            artifacts,
            base_dir: self.matrix.dir.clone(),
            make_dirs,
            limits: self.matrix.limits.clone(),
            first_attempt: 1,
            notes: Vec::new(),
            coverage,
            ccache_stats,
        })
    }

    /// The jobs this host can run.
    pub fn ready_jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(|j| j.availability == Availability::Ready)
    }

    /// Renders every template for every job, once per distinct combination of the values a
    /// template reads: a template's rendering (and so whether it names an undefined variable)
    /// depends only on those, and the per-job paths (`build_dir`, `job`…) are always defined.
    fn validate_templates(&self) -> Result<(), ConfigError> {
        // What a template reads of a job, borrowed: the toolchain by identity (one `Arc` per
        // resolution), the whole cell by slug (one per cell).
        #[derive(PartialEq, Eq, Hash)]
        enum Read<'a> {
            Value(Option<&'a str>),
            Tools(*const crate::toolchain::ResolvedToolchain),
            /// Which setups (by entry) the cell has: `{{ setup.NAME }}` is defined for those.
            Setups(Vec<usize>),
        }
        let per_job = ["source", "build_dir", "results_dir", "cache_dir", "cpus", "job", "run", "commit"];
        let reads: Vec<Vec<String>> = (0..self.templates.sites().len())
            .map(|i| self.templates.variables(i).iter().filter(|v| !per_job.contains(&v.as_str())).cloned().collect())
            .collect();
        let mut seen: FxHashSet<(usize, Vec<Read<'_>>)> = FxHashSet::default();
        for job in &self.jobs {
            let mut context = None;
            for (i, names) in reads.iter().enumerate() {
                let key = names
                    .iter()
                    .map(|name| match name.as_str() {
                        "cell" => Read::Value(Some(job.slug.as_str())),
                        "cc" | "cxx" | "compiler_family" | "compiler_version" | "llvm_config" | "std_flag"
                        | "sanitizer_flags" => Read::Tools(Arc::as_ptr(&job.tools)),
                        "setup" => Read::Setups(job.setups.iter().map(|&i| self.pipeline[i].step).collect()),
                        _ => Read::Value(job.cell.text(name)),
                    })
                    .collect();
                if seen.insert((i, key)) {
                    let context =
                        context.get_or_insert_with(|| self.context(job, 0, &self.commit, &self.local_roots(0)));
                    let rendered = self.templates.render(i, context, &self.matrix, &job.slug)?;
                    self.check_rendered(&self.templates.sites()[i], &rendered, job)?;
                }
            }
        }
        Ok(())
    }
}

impl Plan {
    /// What a template rendered to is fit for its use: a command that says something, a glob that
    /// compiles, nothing a process cannot be handed (a NUL).
    fn check_rendered(&self, site: &TemplateSite, rendered: &str, job: &Job) -> Result<(), ConfigError> {
        let error = |message: String| Err(self.matrix.file.error(site.text.span.clone(), message));
        if rendered.contains('\0') {
            return error(format!("{}: renders to text holding a NUL character for cell {}", site.what, job.slug));
        }
        match site.kind {
            SiteKind::Command if rendered.trim().is_empty() => {
                error(format!("{}: renders to an empty command for cell {}", site.what, job.slug))
            }
            SiteKind::Glob => match globset::Glob::new(rendered) {
                Ok(_) => Ok(()),
                Err(e) => error(format!(
                    "{}: `{}` is not a valid glob for cell {}: {}",
                    site.what,
                    crate::text::one_line(rendered),
                    job.slug,
                    e.kind()
                )),
            },
            SiteKind::Path if rendered.trim().is_empty() => {
                error(format!("{}: renders to an empty path for cell {}", site.what, job.slug))
            }
            SiteKind::Path => {
                // Results are read back from the job's own folders, never from elsewhere.
                let paths = self.paths(job, 0);
                if crate::fspath::is_inside(Path::new(rendered), &paths.source, &[&paths.work_dir, &paths.source]) {
                    Ok(())
                } else {
                    error(format!(
                        "{}: `{}` is outside the job's folders (its source and {{{{ build_dir }}}}, {{{{ results_dir }}}}) for cell {}",
                        site.what,
                        crate::text::one_line(rendered),
                        job.slug
                    ))
                }
            }
            _ => Ok(()),
        }
    }
}

/// The templates of a file, in the order [`Plan::render`] consumes them.
fn template_sites(matrix: &MatrixFile) -> Vec<TemplateSite> {
    let mut sites = Vec::new();
    for step in &matrix.steps {
        let name = &step.name.value;
        sites.push(TemplateSite { what: format!("steps.{name}.run"), text: step.run.clone(), kind: SiteKind::Command });
        if let Some(junit) = &step.junit {
            sites.push(TemplateSite { what: format!("steps.{name}.junit"), text: junit.clone(), kind: SiteKind::Path });
        }
        for (key, value) in &step.env {
            sites.push(TemplateSite {
                what: format!("steps.{name}.env.{key}"),
                text: value.clone(),
                kind: SiteKind::Env,
            });
        }
    }
    for (key, value) in &matrix.env {
        sites.push(TemplateSite { what: format!("env.{key}"), text: value.clone(), kind: SiteKind::Env });
    }
    for pattern in &matrix.artifacts.patterns {
        sites.push(TemplateSite { what: "artifacts.patterns".into(), text: pattern.clone(), kind: SiteKind::Glob });
    }
    sites
}

/// Where one kind of cell can run, and the toolchain it gets there.
#[derive(Clone, Debug)]
struct Routing {
    tools: Arc<ResolvedToolchain>,
    availability: Availability,
    places: Vec<usize>,
}

/// Routes a cell: into its image where it names one; else to this host (where it takes cells)
/// and every build host that can serve it, in that order. A cell no machine can serve is
/// unsupported where its compiler rejects its standard, else unavailable with each machine's
/// reason.
fn route(
    cell: &Cell,
    image: Option<&str>,
    machines: &Machines,
    image_places: &FxHashMap<&str, Result<usize, String>>,
) -> Routing {
    if let Some(image) = image {
        return match (image_places.get(image), machines.image_found(image)) {
            (Some(Ok(place)), Some(found)) => {
                let (tools, availability) = resolve_cell(cell, &found.host);
                let places = if availability == Availability::Ready { vec![*place] } else { Vec::new() };
                let availability = match availability {
                    Availability::Unavailable(why) => {
                        Availability::Unavailable(format!("in image {image}: {why}").into())
                    }
                    other => other,
                };
                Routing { tools: Arc::new(tools), availability, places }
            }
            (Some(Err(why)), _) => Routing {
                tools: Arc::new(resolve_cell(cell, &machines.local).0),
                availability: Availability::Unavailable(why.clone().into()),
                places: Vec::new(),
            },
            _ => Routing {
                tools: Arc::new(resolve_cell(cell, &machines.local).0),
                availability: Availability::Unavailable(format!("image {image} could not be probed").into()),
                places: Vec::new(),
            },
        };
    }
    // Each machine's answer: (place, tools, availability).
    let mut answers: Vec<(usize, ResolvedToolchain, Availability)> = Vec::new();
    if machines.local_takes_cells {
        let (tools, availability) = resolve_cell(cell, &machines.local);
        answers.push((0, tools, availability));
    }
    let mut unreachable: Vec<String> = Vec::new();
    for (i, host) in machines.hosts.iter().enumerate() {
        match &host.state {
            Ok(reached) => {
                let (tools, availability) = resolve_cell(cell, &reached.host);
                answers.push((i + 1, tools, availability));
            }
            Err(why) => unreachable.push(format!("{}: cannot be reached ({why})", host.config.name)),
        }
    }
    let places: Vec<usize> = answers.iter().filter(|(_, _, a)| *a == Availability::Ready).map(|(p, _, _)| *p).collect();
    if let Some(first) = places.first() {
        let tools = answers.iter().find(|(p, _, _)| p == first).map(|(_, t, _)| t.clone()).unwrap_or_default();
        return Routing { tools: Arc::new(tools), availability: Availability::Ready, places };
    }
    let tools = Arc::new(answers.first().map_or_else(|| resolve_cell(cell, &machines.local).0, |(_, t, _)| t.clone()));
    if let Some((_, _, unsupported)) = answers.iter().find(|(_, _, a)| matches!(a, Availability::Unsupported(_))) {
        return Routing { tools, availability: unsupported.clone(), places: Vec::new() };
    }
    let availability = if machines.hosts.is_empty() {
        // This host alone: its own reason, as ever.
        answers.into_iter().next().map_or(Availability::Unavailable("this host takes no cells".into()), |(_, _, a)| a)
    } else {
        let mut reasons: Vec<String> = answers
            .iter()
            .map(|(place, _, a)| {
                let name = if *place == 0 { "this host" } else { &machines.hosts[place - 1].config.name };
                format!("{name}: {}", a.reason().unwrap_or("cannot run it"))
            })
            .collect();
        if !machines.local_takes_cells {
            reasons.insert(0, "this host takes no cells".into());
        }
        reasons.extend(unreachable);
        Availability::Unavailable(format!("no host can run it ({})", reasons.join("; ")).into())
    };
    Routing { tools, availability, places: Vec::new() }
}

/// The image each cell runs in: `[container] image` rendered over the cell, else its `image`
/// value; `None` for a cell that runs on a host.
fn cell_images<'c>(
    matrix: &MatrixFile,
    cells: impl Iterator<Item = &'c Cell>,
) -> Result<Vec<Option<String>>, ConfigError> {
    let Some(template) = &matrix.container.image else {
        return Ok(cells.map(|c| c.text(keys::IMAGE).map(str::to_string)).collect());
    };
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(200_000));
    let compiled = env.template_from_str(&template.value).map_err(|e| {
        matrix.file.error(
            template.span.clone(),
            format!("container.image: template error: {}", e.detail().unwrap_or("syntax error")),
        )
    })?;
    cells
        .map(|cell| {
            let values: std::collections::BTreeMap<&str, minijinja::Value> =
                cell.iter().map(|(k, v)| (k, v.to_template_value())).collect();
            let rendered = compiled.render(&values).map_err(|e| {
                matrix.file.error(
                    template.span.clone(),
                    format!("container.image: {} (cell {})", e.detail().unwrap_or("cannot render"), cell.describe()),
                )
            })?;
            let rendered = rendered.trim().to_string();
            Ok((!rendered.is_empty()).then_some(rendered))
        })
        .collect()
}

/// The cells of each image, in the order the images first appear.
fn group_by_image<'a>(
    images: &'a [Option<String>],
    picked: &'a [(Cell, String, bool)],
) -> Vec<(&'a str, Vec<&'a Cell>)> {
    let mut groups: Vec<(&str, Vec<&Cell>)> = Vec::new();
    for (image, (cell, _, _)) in images.iter().zip(picked) {
        let Some(image) = image.as_deref() else { continue };
        match groups.iter_mut().find(|(i, _)| *i == image) {
            Some((_, cells)) => cells.push(cell),
            None => groups.push((image, vec![cell])),
        }
    }
    groups
}

/// Names templates of `[[setup]]` and `[[finally]]` (and cells, for `setup`) define beside the
/// built-in variables: no axis or include key may take them either.
const PIPELINE_NAMES: [&str; 3] = ["setup", "setup_dir", "run_json"];

/// Axis and include keys share the templates' namespace with the built-in variables.
fn check_reserved_names(matrix: &MatrixFile) -> Result<(), ConfigError> {
    let reserved = |name: &str| BUILTINS.contains(&name) || PIPELINE_NAMES.contains(&name);
    for axis in &matrix.axes {
        if reserved(&axis.name) {
            return Err(matrix.file.error(
                axis.span.clone(),
                format!("axis `{}` has the name of a built-in template variable; rename it", axis.name),
            ));
        }
    }
    for entry in &matrix.include {
        if let Some(((key, _), span)) = entry.pairs.iter().zip(&entry.key_spans).find(|((k, _), _)| reserved(k)) {
            return Err(matrix.file.error(
                span.clone(),
                format!("include key `{key}` has the name of a built-in template variable; rename it"),
            ));
        }
    }
    Ok(())
}

/// Has the host learn (from its cache, or by probing) exactly the compilers, standards and LLVMs
/// these cells name.
fn learn_what_cells_need<'a>(host: &mut Host, cells: impl Iterator<Item = &'a Cell>) {
    let mut compilers: Vec<&str> = Vec::new();
    let mut standard_texts: Vec<&str> = Vec::new();
    let mut standards: Vec<Standard> = Vec::new();
    let mut llvms: Vec<&str> = Vec::new();
    for cell in cells {
        if let Some(c) = cell.text(keys::COMPILER) {
            if !compilers.contains(&c) {
                compilers.push(c);
            }
        }
        // Parsed once per distinct text, not once per cell.
        if let Some(text) = cell.text(keys::CXX_STANDARD).filter(|t| !standard_texts.contains(t)) {
            standard_texts.push(text);
            if let Some(s) = Standard::parse(text) {
                for s in s.draft().into_iter().chain([s]) {
                    if !standards.contains(&s) {
                        standards.push(s);
                    }
                }
            }
        }
        if let Some(l) = cell.text(keys::LLVM) {
            if !llvms.contains(&l) {
                llvms.push(l);
            }
        }
    }
    host.learn(&compilers, &standards, &llvms);
}
