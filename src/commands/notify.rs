//! `gridrun notify [RUN] [--dry-run]`: the notifications a recorded run triggers, sent again (a
//! run on a machine that could not reach the mail server, say) or shown with what each would send
//! and to whom. The `[[notify]]` entries are those of the matrix file the run was made from, or
//! of the one `--matrix` names.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::recorded::Recorded;
use super::Context;
use crate::cli::NotifyArgs;
use crate::config::{self, MatrixFile};
use crate::error::{Error, Result};
use crate::notify::{self, Notice};
use crate::outcome::RunRecord;

pub(super) fn run(ctx: &Context, args: &NotifyArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let run = recorded.run(&args.run)?;
    let matrix = matrix_of(&recorded, &run, args.matrix.as_deref())?;
    let notice = Notice::of(&recorded.store, &run)?;
    let mut out = format!("{} ({})\n", notice.headline, matrix.file.path.display());
    if matrix.notify.is_empty() {
        out.push_str("no [[notify]] entries: nothing to send\n");
        super::print_out(out, "the notifications")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut due = Vec::new();
    for entry in &matrix.notify {
        let name = format!("{} (line {})", entry.target.kind(), entry.line);
        match notice.applies(entry) {
            Ok(()) if args.dry_run => {
                out.push_str(&format!("{name}: would send\n"));
                out.push_str(&notify::describe(entry, &notice, &matrix));
            }
            Ok(()) => due.push(entry),
            Err(why) => out.push_str(&format!("{name}: nothing to send: {why}\n")),
        }
    }
    if args.dry_run || due.is_empty() {
        super::print_out(out, "the notifications")?;
        return Ok(ExitCode::SUCCESS);
    }
    super::print_out(out, "the notifications")?;
    let masker = notify::masker(&matrix);
    let mut failed = false;
    let mut sent = String::new();
    for (entry, result) in due.iter().zip(notify::send_all(&due, &notice, &matrix)) {
        let name = format!("{} (line {})", entry.target.kind(), entry.line);
        match result {
            Ok(what) => sent.push_str(&notify::mask(masker.as_ref(), &format!("{name}: {what}\n"))),
            Err(why) => {
                failed = true;
                crate::note!("{}", notify::mask(masker.as_ref(), &format!("warning: {name}: {why}")));
            }
        }
    }
    super::print_out(sent, "the notifications")?;
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The matrix file whose `[[notify]]` entries apply to `run`: the one `--matrix` names (a file,
/// or the file of the run's project in a folder), else the file the run was made from, found
/// where it was named from or beside the state folder, else the default lookup's.
fn matrix_of(recorded: &Recorded, run: &RunRecord, named: Option<&Path>) -> Result<MatrixFile> {
    let path = match named {
        Some(path) => Context::find_matrix(Some(path))?,
        None => match recorded_file(recorded, run) {
            Some(path) => path,
            None => Context::find_matrix(None).map_err(|_| {
                Error::Usage(format!(
                    "run {} was made from {}, which is not there any more; name the matrix file with --matrix",
                    run.id, run.matrix_path
                ))
            })?,
        },
    };
    let files = config::load_path(&path)?;
    let mut matrix = files.into_iter().find(|f| f.project.name == run.project).ok_or_else(|| {
        Error::Usage(format!("{} holds no project `{}`, which run {} is of", path.display(), run.project, run.id))
    })?;
    // A run of a branch hears as that branch's [branches."GLOB"] settings say.
    if let Some(branch) = &run.branch {
        matrix.apply_branch(branch);
    }
    Ok(matrix)
}

/// The file a run was made from, as it was named then: from the folder the state folder is in
/// (the path's tail, for a run started from another folder), else from the current folder.
fn recorded_file(recorded: &Recorded, run: &RunRecord) -> Option<PathBuf> {
    let named = Path::new(&run.matrix_path);
    if named.as_os_str().is_empty() {
        return None;
    }
    if named.is_absolute() {
        return named.is_file().then(|| named.to_path_buf());
    }
    let parts: Vec<_> = named.components().collect();
    let beside_state = recorded.state_dir.parent().and_then(|base| {
        (0..parts.len())
            .map(|skip| parts[skip..].iter().fold(base.to_path_buf(), |path, part| path.join(part)))
            .find(|candidate| candidate.is_file())
    });
    let found = beside_state.or_else(|| named.is_file().then(|| named.to_path_buf()))?;
    // Named as the user would from here, as the default lookup names it.
    let cwd = std::env::current_dir().ok();
    Some(cwd.and_then(|cwd| found.strip_prefix(cwd).ok().map(Path::to_path_buf)).unwrap_or(found))
}
