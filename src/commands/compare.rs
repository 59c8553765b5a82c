//! `gridrun compare A B`: what newly fails, what was fixed, what still fails, what got slower, and
//! the cells only one run has, or `--json`. Exit 0 whatever it finds: a difference is an answer.

use std::process::ExitCode;

use super::Context;
use crate::cli::CompareArgs;
use crate::error::Result;
use crate::report::{compare, terminal};

pub(super) fn run(ctx: &Context, args: &CompareArgs) -> Result<ExitCode> {
    let recorded = ctx.recorded(args.matrix.as_deref())?;
    let (a, b) = (recorded.run(&args.a)?, recorded.run(&args.b)?);
    let (a, b) = (recorded.store.report(&a)?, recorded.store.report(&b)?);
    let cmp = compare::compare(&a, &b);
    if args.json {
        super::print_json(&cmp, "the comparison")?;
    } else {
        super::print_out(terminal::comparison(&a, &b, &cmp), "the comparison")?;
    }
    Ok(ExitCode::SUCCESS)
}
