//! `gridrun sbom RUN[/JOB]`: a job's bill of materials, rendered from the store as the run wrote
//! it beside the job's logs (see [`crate::sbom`]); for a run, every job that ran — as one JSON
//! array on stdout, or one file per job in the `-o` folder.

use std::path::Path;
use std::process::ExitCode;

use super::Context;
use crate::cli::{SbomArgs, SbomFormat};
use crate::error::{Error, Result};
use crate::locate::split_target;
use crate::outcome::JobRecord;
use crate::sbom;

pub(super) fn run(ctx: &Context, args: &SbomArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let (run_part, slug) = split_target(&args.target)?;
    let run = recorded.run(run_part)?;
    let store = &recorded.store;
    // CycloneDX is the one format there is.
    let SbomFormat::Cyclonedx = args.format;
    let render = |job: &JobRecord| sbom::cyclonedx(&run, job);
    if let Some(slug) = slug {
        let job = store.job_report(recorded.job(&run, slug)?)?;
        let text = sbom::to_text(&sbom::of_job(&run, &job).map_err(Error::Usage)?);
        return match &args.output {
            None => {
                super::print_out(text, "the bill of materials")?;
                Ok(ExitCode::SUCCESS)
            }
            Some(path) if path.is_dir() => write_one(&path.join(file_name(&job)), &text),
            Some(path) => write_one(path, &text),
        };
    }
    let jobs: Vec<JobRecord> = store.report(&run)?.jobs.into_iter().filter(sbom::has_bom).collect();
    if jobs.is_empty() {
        return Err(Error::Usage(format!("no job of run {} ran: it has no bills of materials", run.id)));
    }
    match &args.output {
        None => {
            let docs: Vec<serde_json::Value> = jobs.iter().map(render).collect();
            super::print_out(sbom::to_text(&serde_json::Value::Array(docs)), "the bills of materials")?;
        }
        Some(dir) => {
            if dir.exists() && !dir.is_dir() {
                return Err(Error::Usage(format!(
                    "{}: not a folder; a run's bills of materials go into a folder, one file per job",
                    dir.display()
                )));
            }
            std::fs::create_dir_all(dir).map_err(Error::io(format!("cannot create {}", dir.display())))?;
            for job in &jobs {
                write_one(&dir.join(file_name(job)), &sbom::to_text(&render(job)))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `JOB.cdx.json`.
fn file_name(job: &JobRecord) -> String {
    format!("{}.cdx.json", job.slug)
}

fn write_one(path: &Path, text: &str) -> Result<ExitCode> {
    crate::outfile::write_path(path, text.as_bytes()).map_err(Error::io(format!("cannot write {}", path.display())))?;
    Ok(ExitCode::SUCCESS)
}
