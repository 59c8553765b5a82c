//! The plan for scripts: `plan --format json` (DESIGN §4's shape) and `plan --format github`, a
//! GitHub Actions matrix (`{"include":[…]}`) for `fromJSON`.

use std::io::Write;
use std::path::Path;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::fanout::FanOut;
use crate::plan::{Job, Plan};

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
        map.serialize_entry("jobs", &JobsJson(&self.plan.jobs, &self.plan.places))?;
        // The pipeline around the grid, only where the file has one (other plans read as ever).
        if !self.plan.matrix.pipeline.is_empty() {
            let entries = |kind: crate::config::PipelineKind| -> Vec<serde_json::Value> {
                self.plan
                    .pipeline
                    .iter()
                    .filter(|p| p.kind == kind)
                    .map(|p| serde_json::json!({ "name": p.name, "slug": p.slug, "per": p.per.to_json() }))
                    .collect()
            };
            map.serialize_entry("setup", &entries(crate::config::PipelineKind::Setup))?;
            map.serialize_entry("finally", &entries(crate::config::PipelineKind::Finally))?;
        }
        map.end()
    }
}

struct JobsJson<'a>(&'a [Job], &'a [crate::plan::PlaceSpec]);

impl Serialize for JobsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|job| JobJson {
            slug: &job.slug,
            cell: &job.cell,
            state: job.availability.state(),
            reason: job.availability.reason().map(str::to_string).or_else(|| job.tools.note()),
            config_hash: job.config_hash,
            runs_on: (self.1.len() > 1).then(|| job.places.iter().map(|p| self.1[*p].name()).collect()),
        }))
    }
}

#[derive(Serialize)]
struct JobJson<'a> {
    slug: &'a str,
    cell: &'a crate::matrix::Cell,
    state: &'a str,
    reason: Option<String>,
    config_hash: crate::plan::ConfigHash,
    /// Where the cell may run, where that is more than this host: `["local", "mac"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    runs_on: Option<Vec<&'a str>>,
}

/// `plan --format json`: `{"schema":1, "project", "jobs":[…]}`, or for a folder
/// `{"schema":1, "projects":[…]}`; pretty on a terminal, compact for scripts.
pub fn json(plans: &[Plan], folder: bool, pretty: bool, out: &mut impl Write) -> std::io::Result<()> {
    let write = |out: &mut dyn Write, value: &dyn erased::Json| value.write(out, pretty);
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

/// `plan --format github`: `{"include":[…]}` for a matrix's `fromJSON`, one entry per CI job:
/// `name`, `cells` (the slugs it runs, comma-separated, for `gridrun run --cell`), `count`,
/// `runs-on`, `image` (`""` for none), `matrix`, `project`, and for a job of one cell its values
/// as `cell`. One line, for `$GITHUB_OUTPUT`.
pub fn github(fan: &FanOut, out: &mut impl Write) -> std::io::Result<()> {
    let include: Vec<serde_json::Value> = fan
        .shares
        .iter()
        .map(|share| {
            let mut entry = serde_json::json!({
                "name": share.name(),
                "cells": share.slugs.join(","),
                "count": share.slugs.len(),
                "runs-on": share.runs_on.as_deref().unwrap_or("ubuntu-latest"),
                "image": share.image.as_deref().unwrap_or(""),
                "matrix": path_string(&share.matrix),
                "project": share.project,
            });
            if let Some(cell) = &share.cell {
                entry["cell"] = cell.clone();
            }
            entry
        })
        .collect();
    serde_json::to_writer(&mut *out, &serde_json::json!({ "include": include })).map_err(std::io::Error::other)?;
    writeln!(out)
}

/// GitLab's limit on a job's name, which `parallel:matrix` makes of the job's and its values.
const GITLAB_NAME_LIMIT: usize = 255;

/// The job `plan --format gitlab` writes, its `parallel:matrix` over the shares.
pub const GITLAB_JOB: &str = "gridrun-cells";

/// `plan --format gitlab`: a child pipeline that includes `template` (which defines the hidden
/// job `.gridrun-cells`, and the merge after it) and runs every share as one `parallel:matrix`
/// job. A share's cells are the variable `GRIDRUN_CELLS_<n>`, its number `GRIDRUN_SHARE`: GitLab
/// names each job by its matrix values, and refuses a name over 255 characters. Scalars are
/// written as JSON strings, which YAML reads as they are.
pub fn gitlab(fan: &FanOut, template: &str, out: &mut impl Write) -> std::io::Result<()> {
    let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
    writeln!(out, "# Written by `gridrun plan --format gitlab`: {} cells in {} jobs.", fan.cells, fan.shares.len())?;
    writeln!(out, "include:\n  - local: {}", q(template))?;
    writeln!(out, "variables:")?;
    for (i, share) in fan.shares.iter().enumerate() {
        writeln!(out, "  GRIDRUN_CELLS_{}: {}", i + 1, q(&share.slugs.join(",")))?;
    }
    writeln!(out, "{GITLAB_JOB}:\n  extends: .{GITLAB_JOB}\n  parallel:\n    matrix:")?;
    let runner = fan.shares.iter().any(|s| s.runs_on.is_some());
    let image = fan.shares.iter().any(|s| s.image.is_some());
    for (i, share) in fan.shares.iter().enumerate() {
        writeln!(out, "      - GRIDRUN_SHARE: {}", q(&(i + 1).to_string()))?;
        writeln!(out, "        GRIDRUN_MATRIX: {}", q(&path_string(&share.matrix)))?;
        if runner {
            writeln!(out, "        GRIDRUN_RUNNER: {}", q(share.runs_on.as_deref().unwrap_or("")))?;
        }
        if image {
            writeln!(out, "        GRIDRUN_IMAGE: {}", q(share.image.as_deref().unwrap_or("")))?;
        }
    }
    Ok(())
}

/// Why GitLab would refuse the pipeline `fan` makes: a job name over its limit.
pub fn gitlab_refuses(fan: &FanOut) -> Option<String> {
    let name =
        (0..fan.shares.len()).map(|i| gitlab_job_name(fan, i)).find(|n| n.chars().count() > GITLAB_NAME_LIMIT)?;
    Some(format!(
        "GitLab refuses job names over {GITLAB_NAME_LIMIT} characters, and one would be `{}…`; shorten the matrix \
         path, runner tag or image",
        name.chars().take(60).collect::<String>()
    ))
}

/// The name GitLab gives a share's job (`gridrun-cells: [3, gridrun.toml, macos, img]`), to
/// check against its limit before the pipeline is refused.
fn gitlab_job_name(fan: &FanOut, index: usize) -> String {
    let share = &fan.shares[index];
    let mut values = vec![(index + 1).to_string(), path_string(&share.matrix)];
    if fan.shares.iter().any(|s| s.runs_on.is_some()) {
        values.push(share.runs_on.clone().unwrap_or_default());
    }
    if fan.shares.iter().any(|s| s.image.is_some()) {
        values.push(share.image.clone().unwrap_or_default());
    }
    format!("{GITLAB_JOB}: [{}]", values.join(", "))
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
