//! The plan for scripts: `plan --format json` (DESIGN §4's shape) and `plan --format github`, a
//! GitHub Actions matrix (`{"include":[…]}`) for `fromJSON`.

use std::io::Write;
use std::path::Path;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

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

/// `{"include":[…]}`: every ready cell's values, plus `slug` (and `project` for a folder), so a
/// workflow can run `gridrun run --cell ${{ matrix.slug }}`.
pub fn github(plans: &[Plan], folder: bool, out: &mut impl Write) -> std::io::Result<()> {
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
