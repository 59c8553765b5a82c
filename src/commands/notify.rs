//! `gridrun notify [RUN] [--dry-run]`: the notifications a recorded run triggers, sent again (a
//! run on a machine that could not reach the mail server, say) or shown with what each would send
//! and to whom. The `[[notify]]` entries are those of the matrix file the run was made from, or
//! of the one `--matrix` names.

use std::process::ExitCode;

use super::Context;
use crate::cli::NotifyArgs;
use crate::error::Result;
use crate::notify::{self, Notice};

pub(super) fn run(ctx: &Context, args: &NotifyArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let run = recorded.run(&args.run)?;
    let matrix = recorded.matrix_file(&run, args.matrix.as_deref())?;
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
