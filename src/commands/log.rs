//! `gridrun log RUN/JOB [--step S]`: a job's step logs in order, streamed from disk whatever their
//! size. Where there is more than one, a `==> step (attempt N) <==` line heads each, as `tail`
//! does for several files. A job still running shows its current step's log as far as it has got.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use super::Context;
use crate::cli::LogArgs;
use crate::error::{Error, Result};
use crate::joblog::{copy_all, in_progress, select, Entry, Filter};
use crate::locate::split_target;
use crate::outcome::JobStatus;

pub(super) fn run(ctx: &Context, args: &LogArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let (run_part, slug) = match split_target(&args.target)? {
        (slug, None) if !args.target.contains('/') => ("latest", slug),
        (run, Some(slug)) => (run, slug),
        (run, None) => return Err(Error::Usage(format!("`{}`: name a job too, e.g. {run}/SLUG", args.target))),
    };
    let run = recorded.run(run_part)?;
    let job = recorded.job(&run, slug)?;
    if let Some(when) = recorded.store.logs_removed_at(run.id)? {
        return Err(Error::Usage(format!(
            "logs of run {} were removed by gc on {}",
            run.id,
            crate::report::terminal::local_time(&when)
        )));
    }
    let mut entries: Vec<Entry> = recorded.store.steps(job.id)?.iter().map(Entry::finished).collect();
    if job.status == JobStatus::Running {
        let dir = recorded.state_dir.join("runs").join(run.id.to_string()).join(&job.slug);
        entries.extend(in_progress(&dir, &entries));
    }
    let entries = select(entries, args.step.as_deref(), &run, &job)?;
    let mut files = Vec::with_capacity(entries.len());
    for entry in entries {
        let file =
            File::open(&entry.path).map_err(Error::io(format!("cannot open the log {}", entry.path.display())))?;
        files.push((entry, file));
    }
    let mut out = BufWriter::new(io::stdout().lock());
    // A file or pipe gets the log byte for byte. A terminal gets no sequence but colour, and a
    // GitHub Actions log gets it fenced, so nothing a job printed acts on either.
    let style = ctx.style;
    let written = if style.github() {
        let token = crate::term::fence_token();
        writeln!(out, "::stop-commands::{token}")
            .and_then(|()| copy_all(files, &mut out, Filter::None))
            .and_then(|()| write!(out, "\n::{token}::\n"))
            .and_then(|()| out.flush())
    } else if style.tty {
        copy_all(files, &mut out, if style.color { Filter::KeepColour } else { Filter::Plain })
    } else {
        copy_all(files, &mut out, Filter::None)
    };
    super::written(written, "the log")?;
    Ok(ExitCode::SUCCESS)
}
