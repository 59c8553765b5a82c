//! Cells in container images, under a real podman with an image the tests build offline from
//! Debian packages (`tests/engines/container/image.sh`: bookworm with clang-15, CMake and Ninja,
//! no gcc): a CMake project built and tested inside it with a compiler this host lacks, the
//! memory cap and a timeout enforced on the container, the image's digest recorded, and the
//! cells that cannot run without an engine or an image said so.

mod common;

use common::engines::{containers_conf, test_image};
use common::{have, repo, Test};

fn podman(args: &[&str]) -> String {
    let out =
        std::process::Command::new("podman").args(args).env("CONTAINERS_CONF", containers_conf()).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn need_podman() {
    assert!(have("podman") && have("mmdebstrap"), "podman and mmdebstrap are not installed: run .ci/install-deps");
}

fn test_in(t: &Test) -> std::process::Command {
    let mut cmd = t.process();
    cmd.env("CONTAINERS_CONF", containers_conf());
    cmd
}

/// The example library configured, built and tested by CMake and CTest inside the image, with
/// clang-15, which this host does not have; its tests read back, its image and digest recorded.
#[test]
fn a_cell_builds_and_tests_in_an_image_with_a_compiler_this_host_lacks() {
    need_podman();
    assert!(!have("clang++-15"), "this test needs a host without clang-15");
    let (image, id) = test_image();
    let t = Test::new();
    for entry in walkdir::WalkDir::new(repo().join("examples")).into_iter().flatten() {
        let rel = entry.path().strip_prefix(repo().join("examples")).unwrap();
        if rel.starts_with("ci")
            || rel.starts_with(".gridrun")
            || entry.file_type().is_dir()
            || rel == std::path::Path::new("gridrun.toml")
        {
            continue;
        }
        let to = t.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(entry.path(), to).unwrap();
    }
    let example = std::fs::read_to_string(repo().join("examples/gridrun.toml")).unwrap();
    let steps = &example[example.find("[[steps]]").unwrap()..];
    let t = t.matrix(&format!(
        "[project]\nname = \"in-image\"\n[matrix]\ncompiler = [\"clang-15\", \"clang-14\"]\ncxx_standard = [\"17\"]\n\
         build_type = [\"Release\"]\n[[matrix.exclude]]\ncompiler = \"clang-14\"\n[[matrix.include]]\ncompiler = \"clang-14\"\n\
         cxx_standard = \"17\"\nbuild_type = \"Debug\"\n[container]\nimage = \"{{% if compiler == 'clang-15' %}}{image}{{% endif %}}\"\n\
         [limits]\ncpus = 1\nmemory = \"2GiB\"\ntimeout = \"10m\"\n{steps}"
    ));
    let out = test_in(&t).args(["plan"]).output().unwrap();
    let plan = common::tables_unpadded(&String::from_utf8_lossy(&out.stdout));
    assert!(plan.contains(&format!("| clang-15-17-Release | clang-15 | 17 | Release | ready | {image} |")), "{plan}");
    assert!(plan.contains("| clang-14-17-Debug | clang-14 | 17 | Debug | ready | local |"), "{plan}");

    let out = test_in(&t).args(["run"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = t.show("latest");
    let job = run.job("clang-15-17-Release");
    assert_eq!(job.status, "passed");
    assert!(!job.test_cases.is_empty(), "CTest's JUnit came back: {job:?}");
    let configure = std::fs::read_to_string(&job.steps[0].log_path).unwrap();
    assert!(configure.contains("The CXX compiler identification is Clang 15"), "{configure}");
    let doc = t.ok_json(&["show", "--json"]);
    let json = doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == "clang-15-17-Release").unwrap();
    assert_eq!(
        (json["image"].as_str(), json["image_digest"].as_str()),
        (Some(image.as_str()), Some(format!("sha256:{}", id.trim_start_matches("sha256:")).as_str()))
    );
    assert!(json["peak_rss_kb"].as_u64().unwrap_or(0) > 0, "the container's peak memory: {json}");
    let local = doc["jobs"].as_array().unwrap().iter().find(|j| j["slug"] == "clang-14-17-Debug").unwrap();
    assert_eq!((local["status"].as_str(), local["image"].as_str()), (Some("passed"), None));
    let shown = t.ok(&["show", "latest/clang-15-17-Release"]);
    assert!(shown.contains(&image) && shown.contains(id.trim_start_matches("sha256:")), "{shown}");
    assert!(!podman(&["ps", "-a", "--format", "{{.Names}}"]).contains("-clang-15-17-Release-"), "no container is left");
}

/// The memory cap holds inside the container (the kernel kills the step, it is recorded
/// `memory_exceeded`), and a step over its time ends with its container.
#[test]
fn the_memory_cap_and_the_time_limit_hold_in_the_container() {
    need_podman();
    let (image, _) = test_image();
    let t = Test::new().matrix(&format!(
        "[project]\nname = \"caps\"\n[matrix]\ncase = [\"hog\", \"hang\"]\n[container]\nimage = \"{image}\"\n\
         [limits]\nmemory = \"64MiB\"\ntimeout = \"3s\"\nkill_grace = \"1s\"\n[[steps]]\nname = \"s\"\n\
         run = \"if [ {{{{ case }}}} = hog ]; then head -c 400000000 /dev/zero | tr '\\\\\\\\0' x | tail -n 1 > /dev/null; echo survived; else sleep 600; fi\"\n"
    ));
    let out = test_in(&t).args(["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let run = t.show("latest");
    assert_eq!(run.job("hog").status, "memory_exceeded", "{:?}", run.job("hog"));
    assert!(run.job("hog").peak_rss_kb.unwrap_or(0) >= 60 * 1024, "{:?}", run.job("hog"));
    assert_eq!(run.job("hang").status, "timed_out");
    common::wait_for("the containers to go", std::time::Duration::from_secs(15), || {
        let names = podman(&["ps", "-a", "--format", "{{.Names}}"]);
        !names.contains("-hog-") && !names.contains("-hang-")
    });
}

/// Without an engine, or without the image here, a cell in an image is unavailable and says why;
/// gridrun pulls nothing.
#[test]
fn no_engine_or_no_image_makes_the_cell_unavailable() {
    need_podman();
    let t = Test::new()
        .matrix("[matrix]\nimage = [\"localhost/gridrun-no-such-image:0\"]\n[[steps]]\nname = \"s\"\nrun = \"true\"\n");
    let out = test_in(&t).args(["plan", "--format", "json"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = plan["jobs"][0]["reason"].as_str().unwrap();
    assert_eq!(plan["jobs"][0]["state"], "unavailable");
    assert!(reason.contains("image localhost/gridrun-no-such-image:0 is not on this host"), "{reason}");
    let bin = t.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["git", "sh"] {
        std::os::unix::fs::symlink(which(tool), bin.join(tool)).unwrap();
    }
    let out = test_in(&t).env("PATH", &bin).args(["plan", "--format", "json"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["jobs"][0]["reason"], "no container engine on this host (neither podman nor docker is on PATH)");
    let out = test_in(&t).env("PATH", &bin).args(["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "a run that can run nothing here: {}", String::from_utf8_lossy(&out.stderr));
}

fn which(tool: &str) -> std::path::PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap()).map(|d| d.join(tool)).find(|p| p.is_file()).unwrap()
}

/// One matrix with a platform axis: its Linux cells run here, its macOS cells on the (mock)
/// macOS build host that serves them, its clang-15 cells in the image; `show --json` names where
/// each ran, and nothing else tells them apart.
#[test]
fn one_matrix_reaches_this_host_a_build_host_and_an_image() {
    need_podman();
    assert!(std::path::Path::new("/usr/sbin/sshd").is_file(), "sshd is not installed: run .ci/install-deps");
    let (image, id) = test_image();
    let t = Test::new().matrix(&format!(
        "[project]\nname = \"everywhere\"\n[matrix]\nplatform = [\"linux\", \"macos\"]\ncompiler = [\"gcc-12\", \"clang-15\"]\n\
         [[matrix.exclude]]\nplatform = \"macos\"\ncompiler = \"clang-15\"\n\
         [container]\nimage = \"{{% if compiler == 'clang-15' %}}{image}{{% endif %}}\"\n\
         [[steps]]\nname = \"s\"\nrun = \"echo '#include <cstdio>\\nint main(){{std::puts(\\\"ok\\\");}}' | {{{{ cxx }}}} -x c++ -o {{{{ build_dir }}}}/a - && {{{{ build_dir }}}}/a\"\n"
    ));
    let mac = common::engines::Sshd::start(t.path(), 1, None);
    let table = mac.table(
        "mac",
        "h1",
        &format!("# a mock of a macOS host\nplatform = \"macos\"\nwork_dir = \"{}/mac\"", t.path().display()),
    );
    let t = t.file("hosts.toml", &table);
    let out = test_in(&t).args(["--hosts", "hosts.toml", "run"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = t.ok_json(&["show", "--json"]);
    let placed: Vec<(String, String, Option<String>, Option<String>)> = doc["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let text = |k: &str| j[k].as_str().map(str::to_string);
            (text("slug").unwrap(), text("status").unwrap(), text("host"), text("image"))
        })
        .collect();
    assert_eq!(
        placed,
        [
            ("linux-gcc-12".into(), "passed".into(), None, None),
            ("linux-clang-15".into(), "passed".into(), None, Some(image.clone())),
            ("macos-gcc-12".into(), "passed".into(), Some("mac".into()), None),
        ]
    );
    let run = t.show("latest");
    for job in &run.jobs {
        assert_eq!(std::fs::read_to_string(&job.steps[0].log_path).unwrap(), "ok\n", "{}", job.slug);
    }
    assert_eq!(
        doc["jobs"][1]["image_digest"].as_str().map(|d| d.ends_with(id.trim_start_matches("sha256:"))),
        Some(true)
    );
}
