//! The completion scripts in completions/ are what `gridrun completions SHELL` prints today.
//! Regenerate with `GRIDRUN_UPDATE_COMPLETIONS=1 cargo test --test completions`.

mod common;

use common::Test;

#[test]
fn checked_in_completions_are_current() {
    let files = [
        ("bash", "gridrun.bash"),
        ("zsh", "_gridrun"),
        ("fish", "gridrun.fish"),
        ("powershell", "_gridrun.ps1"),
        ("elvish", "gridrun.elv"),
    ];
    let update = std::env::var_os("GRIDRUN_UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in files {
        let generated = Test::new().args(["completions", shell]).status(0);
        assert!(generated.contains("plan"), "{shell} completions name the plan command");
        let path = common::repo().join("completions").join(file);
        if update {
            std::fs::write(&path, &generated).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(generated.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale completions {stale:?}: run GRIDRUN_UPDATE_COMPLETIONS=1 cargo test --test completions"
    );
}
