//! `gridrun plan`: the jobs a matrix expands to on this host, as a table, JSON, or a GitHub
//! Actions matrix.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use comfy_table::Color;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::Context;
use crate::cli::{PlanArgs, PlanFormat};
use crate::error::Result;
use crate::matrix::CellFilter;
use crate::plan::{Job, Plan, PlanError};
use crate::toolchain::{Availability, Host};

pub(super) fn run(ctx: &Context, args: &PlanArgs) -> Result<ExitCode> {
    let (path, files) = ctx.load(args.selection.matrix.as_deref())?;
    let filter = CellFilter::new(&args.selection.filters, args.selection.cell.as_deref()).map_err(PlanError::from)?;
    let state_dir = ctx.state_dir(&path)?;
    let mut host = Host::detect(Some(state_dir.join("cache").join("toolchains.json")));
    let folder = files.len() > 1 || path.is_dir();
    let plans = crate::plan::build_all(files, &mut host, &filter, &state_dir, folder)?;

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match args.format {
        PlanFormat::Table => print_tables(ctx, &plans, folder, &mut out),
        PlanFormat::Json => print_json(ctx, &plans, folder, &mut out),
        PlanFormat::Github => print_github(&plans, folder, &mut out),
    };
    super::recorded::written(written.and_then(|()| out.flush()), "the plan")?;
    Ok(ExitCode::SUCCESS)
}

fn print_tables(ctx: &Context, plans: &[Plan], folder: bool, out: &mut impl Write) -> std::io::Result<()> {
    for (i, plan) in plans.iter().enumerate() {
        if folder {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "{} ({})", plan.matrix.project.name, plan.matrix.file.path.display())?;
        }
        let keys = keys_in_order(&plan.jobs);
        let mut table = ctx.style.table();
        let mut header = vec!["slug"];
        header.extend(keys.iter().copied());
        header.extend(["state", "reason"]);
        table.set_header(header);
        for job in &plan.jobs {
            let mut row = vec![crate::term::cell(&job.slug)];
            row.extend(keys.iter().map(|k| crate::term::cell(job.cell.text(k).unwrap_or(""))));
            let state = crate::term::cell(job.availability.state());
            row.push(match job.availability {
                Availability::Ready => state.fg(Color::Green),
                Availability::Unsupported(_) => state.fg(Color::Yellow),
                Availability::Unavailable(_) => state.fg(Color::DarkGrey),
            });
            row.push(crate::term::cell(job.availability.reason().unwrap_or("")));
            table.add_row(row);
        }
        if !plan.jobs.is_empty() {
            writeln!(out, "{table}")?;
        }
        writeln!(out, "{}", summary(plan))?;
    }
    Ok(())
}

/// `12 jobs: 8 ready, 2 unsupported, 2 unavailable (of 20 cells; filters left out 8)`.
fn summary(plan: &Plan) -> String {
    let count = |state: &str| plan.jobs.iter().filter(|j| j.availability.state() == state).count();
    let mut line = format!(
        "{} job{}: {} ready, {} unsupported, {} unavailable",
        plan.jobs.len(),
        if plan.jobs.len() == 1 { "" } else { "s" },
        count("ready"),
        count("unsupported"),
        count("unavailable"),
    );
    let left_out = plan.total_cells - plan.jobs.len();
    if left_out > 0 {
        line.push_str(&format!(" (of {} cells; filters left out {left_out})", plan.total_cells));
    }
    line
}

/// Every key of every job, in the order they first appear.
fn keys_in_order(jobs: &[Job]) -> Vec<&str> {
    let mut keys: Vec<&str> = Vec::new();
    for job in jobs {
        for (k, _) in job.cell.iter() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// One project's plan in the `plan --format json` shape.
struct PlanJson<'a> {
    plan: &'a Plan,
    schema: bool,
}

impl Serialize for PlanJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if self.schema {
            map.serialize_entry("schema", &1)?;
        }
        map.serialize_entry("project", &self.plan.matrix.project.name)?;
        map.serialize_entry("file", &self.plan.matrix.file.path)?;
        map.serialize_entry("total_cells", &self.plan.total_cells)?;
        map.serialize_entry("jobs", &JobsJson(&self.plan.jobs))?;
        map.end()
    }
}

struct JobsJson<'a>(&'a [Job]);

impl Serialize for JobsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|job| JobJson {
            slug: &job.slug,
            cell: &job.cell,
            state: job.availability.state(),
            reason: job.availability.reason(),
            config_hash: job.config_hash,
        }))
    }
}

#[derive(Serialize)]
struct JobJson<'a> {
    slug: &'a str,
    cell: &'a crate::matrix::Cell,
    state: &'a str,
    reason: Option<&'a str>,
    config_hash: crate::plan::ConfigHash,
}

fn print_json(ctx: &Context, plans: &[Plan], folder: bool, out: &mut impl Write) -> std::io::Result<()> {
    let write = |out: &mut dyn Write, value: &dyn erased::Json| value.write(out, ctx.style.tty);
    if folder {
        let projects: Vec<PlanJson<'_>> = plans.iter().map(|plan| PlanJson { plan, schema: false }).collect();
        write(out, &serde_json::json!({ "schema": 1, "projects": projects_value(&projects)? }))?;
    } else {
        write(out, &PlanJson { plan: &plans[0], schema: true })?;
    }
    writeln!(out)
}

fn projects_value(projects: &[PlanJson<'_>]) -> std::io::Result<serde_json::Value> {
    projects
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map(serde_json::Value::Array)
        .map_err(std::io::Error::other)
}

/// `{"include":[…]}`: every ready cell's values, plus `slug` (and `project` for a folder), so a
/// workflow can run `gridrun run --cell ${{ matrix.slug }}`.
fn print_github(plans: &[Plan], folder: bool, out: &mut impl Write) -> std::io::Result<()> {
    let mut include = Vec::new();
    for plan in plans {
        for job in plan.ready_jobs() {
            let mut entry = job.cell.to_json();
            let object = entry.as_object_mut().expect("a cell is an object");
            object.entry("slug").or_insert_with(|| job.slug.clone().into());
            if folder {
                object.entry("project").or_insert_with(|| plan.matrix.project.name.clone().into());
                object.entry("matrix").or_insert_with(|| path_string(&plan.matrix.file.path).into());
            }
            include.push(entry);
        }
    }
    serde_json::to_writer(&mut *out, &serde_json::json!({ "include": include })).map_err(std::io::Error::other)?;
    writeln!(out)
}

fn path_string(path: &Path) -> String {
    path.display().to_string()
}

mod erased {
    use std::io::Write;

    /// Anything serializable, written compact (for scripts) or pretty (on a terminal).
    pub(super) trait Json {
        fn write(&self, out: &mut dyn Write, pretty: bool) -> std::io::Result<()>;
    }

    impl<T: serde::Serialize> Json for T {
        fn write(&self, out: &mut dyn Write, pretty: bool) -> std::io::Result<()> {
            let result =
                if pretty { serde_json::to_writer_pretty(out, self) } else { serde_json::to_writer(out, self) };
            result.map_err(std::io::Error::other)
        }
    }
}
