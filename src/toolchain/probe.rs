//! Running compilers to learn about them: versions, and whether `-std=X` compiles an empty
//! translation unit. Probes run in parallel, one thread per CPU.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Family;

/// One question for one tool.
#[derive(Clone, Debug)]
pub(super) enum Task {
    Version { cc: PathBuf, family: Family },
    Standard { cxx: PathBuf, flag: String },
    Llvm { config: PathBuf },
}

/// Its answer.
#[derive(Clone, Debug)]
pub(super) enum Answer {
    Text(String),
    Accepted(bool),
    Llvm { version: String, cmake_dir: Option<PathBuf> },
    Failed,
}

pub(super) fn run_all(tasks: Vec<Task>) -> Vec<(Task, Answer)> {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).min(tasks.len()).max(1);
    let queue = Mutex::new(tasks.into_iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let Some(task) = queue.lock().expect("probe queue").next() else { break };
                let answer = run(&task);
                results.lock().expect("probe results").push((task, answer));
            });
        }
    });
    results.into_inner().expect("probe results")
}

fn run(task: &Task) -> Answer {
    match task {
        Task::Version { cc, family } => {
            let flag = match family {
                Family::Gcc => "-dumpfullversion",
                Family::Clang => "-dumpversion",
            };
            output(cc, &[flag]).map_or(Answer::Failed, Answer::Text)
        }
        Task::Standard { cxx, flag } => Answer::Accepted(
            duct::cmd(cxx, [format!("-std={flag}").as_str(), "-fsyntax-only", "-x", "c++", "/dev/null"])
                .stdin_null()
                .stdout_null()
                .stderr_null()
                .unchecked()
                .run()
                .is_ok_and(|out| out.status.success()),
        ),
        Task::Llvm { config } => match output(config, &["--version"]) {
            Some(version) => Answer::Llvm { version, cmake_dir: output(config, &["--cmakedir"]).map(PathBuf::from) },
            None => Answer::Failed,
        },
    }
}

fn output(program: &Path, args: &[&str]) -> Option<String> {
    let out = duct::cmd(program, args).stdin_null().stdout_capture().stderr_null().unchecked().run().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
