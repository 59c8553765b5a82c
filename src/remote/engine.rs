//! A container engine on this host (podman or docker): which one, what an image's digest is,
//! and running a script inside an image (the toolchain probe). Images are only ever used as
//! they are here: gridrun pulls nothing.

use std::io;

use crate::config::Engine;
use crate::text::said;

/// The engine a run uses: the file's, else podman where installed, else docker; `Err` says why
/// there is none.
pub fn find(wanted: Option<Engine>) -> Result<Engine, String> {
    let candidates: &[Engine] = match wanted {
        Some(engine) => &[engine][..],
        None => &[Engine::Podman, Engine::Docker][..],
    };
    for engine in candidates {
        if on_path(engine.program()) {
            return Ok(*engine);
        }
    }
    Err(match wanted {
        Some(engine) => format!("no {} on this host's PATH", engine.program()),
        None => "no container engine on this host (neither podman nor docker is on PATH)".into(),
    })
}

fn on_path(program: &str) -> bool {
    which::which(program).is_ok()
}

/// The image's ID (its digest, `sha256:…`), as the engine has it here; `Err` says why not (not
/// pulled or built here: gridrun pulls nothing).
pub fn digest(engine: Engine, image: &str) -> Result<String, String> {
    if image.starts_with('-') || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{}` is not an image name", crate::text::one_line(image)));
    }
    let out = duct::cmd(engine.program(), ["image", "inspect", "--format", "{{.Id}}", "--", image])
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()
        .map_err(|e| format!("cannot run {}: {e}", engine.program()))?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || id.is_empty() {
        return Err(format!(
            "image {image} is not on this host ({} image inspect: {}); build or pull it first",
            engine.program(),
            said(&out.stderr)
        ));
    }
    Ok(if id.starts_with("sha256:") { id } else { format!("sha256:{id}") })
}

/// Runs `script` with `sh -s ARGS…` in a throwaway container of `image` (no network) and returns
/// its stdout.
pub fn run_script(engine: Engine, image: &str, script: &str, args: &[String]) -> io::Result<String> {
    let mut all: Vec<String> =
        ["run", "--rm", "-i", "--network=none", "--entrypoint", "sh", "--", image, "-s"].map(String::from).to_vec();
    all.extend(args.iter().cloned());
    let out = crate::toolchain::feed(engine.program(), &all, script)?;
    if !out.status.success() && out.stdout.is_empty() {
        return Err(io::Error::other(format!("{} run {image}: {}", engine.program(), hint(&said(&out.stderr)))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `message`, with the way out where it is a known trouble: runc on some virtual machines may
/// not raise the open-files limit podman asks for.
pub fn hint(message: &str) -> String {
    if message.contains("error setting rlimit") || message.contains("setrlimit") {
        format!(
            "{message} (the container runtime may not raise this limit here: put `default_ulimits = []` under \
             `[containers]` in a containers.conf, and point CONTAINERS_CONF at it)"
        )
    } else {
        message.to_string()
    }
}
