//! `gridrun sbom`: each job's bill of materials, from a real C++ build by real compilers, checked
//! against the official CycloneDX 1.5 schema by an independent validator (cyclonedx-python-lib,
//! `tests/tools/cdx_validate.py`) and against the facts themselves: `sha256sum` of the artifact
//! and of the compiler binary, the git commit, the cell, and no secret anywhere.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::engines::{containers_conf, test_image};
use common::{have, repo, Test};
use serde_json::Value;

const SECRET: &str = "sbom-s3cr3t-7781";

/// Validates `text` (a document or an array of them) with the independent validator.
fn validate(text: &str) {
    let mut child = Command::new("python3")
        .arg(repo().join("tests/tools/cdx_validate.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the CycloneDX validator refused it:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `gridrun run`, which must pass (its progress goes to stderr).
fn run(t: &Test) {
    let out = t.gridrun(&["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

fn sh(dir: &Path, script: &str) -> String {
    let out = Command::new("sh").arg("-ec").arg(script).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn sha256sum(path: &str) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {path}");
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

/// The component whose `gridrun:role` is `role`.
fn tool<'a>(doc: &'a Value, role: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| prop(c, "gridrun:role").as_deref() == Some(role))
        .unwrap_or_else(|| panic!("no {role} component in {doc:#}"))
}

fn prop(component: &Value, name: &str) -> Option<String> {
    component["properties"].as_array()?.iter().find(|p| p["name"] == name).map(|p| p["value"].as_str().unwrap().into())
}

fn files(doc: &Value) -> Vec<&Value> {
    doc["components"].as_array().unwrap().iter().filter(|c| c["type"] == "file").collect()
}

#[test]
fn a_real_build_has_a_valid_and_truthful_bill_of_materials() {
    let t = Test::new()
        .matrix(
            r#"
secrets = ["SBOM_TOKEN"]

[project]
name = "demo"

[matrix]
compiler = ["gcc-12", "clang-19"]
cxx_standard = ["17"]
flavour = ["plain"]

[env]
GREETING = "hello sbom"

[[steps]]
name = "build"
run = """
{{ cxx }} -std=c++{{ cxx_standard }} -c {{ source }}/lib.cpp -o {{ build_dir }}/lib.o
ar rcs {{ build_dir }}/libdemo.a {{ build_dir }}/lib.o
touch "{{ build_dir }}/note-$SBOM_TOKEN.txt"
"""

[artifacts]
patterns = ["{{ build_dir }}/libdemo.a", "{{ build_dir }}/*.txt"]
"#,
        )
        .file("lib.cpp", "int answer() { return 42; }\n");
    let dir = t.path();
    sh(
        dir,
        "git init -q . && git remote add origin https://user:tok3n@example.com/demo.git && git add -A && \
         git -c user.name=t -c user.email=t@example.com commit -qm init",
    );
    let commit = sh(dir, "git rev-parse HEAD");
    let out = t
        .command()
        .args(["run", "--keep-workspaces"])
        .env("SBOM_TOKEN", SECRET)
        .env("CXXFLAGS", format!("-O1 -DKEY={SECRET}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    for (slug, cxx) in [("gcc-12-17-plain", "g++-12"), ("clang-19-17-plain", "clang++-19")] {
        let text = t.ok(&["sbom", &format!("latest/{slug}")]);
        validate(&text);
        assert!(!text.contains(SECRET), "a secret in the bill of materials:\n{text}");
        assert!(!text.contains("tok3n"), "the remote's credentials in the bill of materials:\n{text}");
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["specVersion"], "1.5");

        // The cell, as properties of the job.
        let job = &doc["metadata"]["component"];
        assert_eq!(job["name"], format!("demo/{slug}"));
        assert_eq!(prop(job, "gridrun:cell:compiler").as_deref(), Some(slug.rsplitn(3, '-').last().unwrap()));
        assert_eq!(prop(job, "gridrun:cell:cxx_standard").as_deref(), Some("17"));
        assert_eq!(prop(job, "gridrun:cell:flavour").as_deref(), Some("plain"));
        assert_eq!(prop(job, "gridrun:env:GREETING").as_deref(), Some("hello sbom"));
        assert_eq!(prop(job, "gridrun:env:CXX").as_deref(), Some(cxx));
        // Inherited flags matter to what is built; a secret in them stays masked.
        assert_eq!(prop(job, "gridrun:env:CXXFLAGS").as_deref(), Some("-O1 -DKEY=***"));

        // The source: its commit, clean, its repository without credentials.
        let source = &doc["components"][0];
        assert_eq!(source["bom-ref"], "source");
        assert_eq!(prop(source, "gridrun:source:commit"), Some(commit.clone()));
        assert_eq!(prop(source, "gridrun:source:dirty").as_deref(), Some("false"));
        assert_eq!(source["externalReferences"][0]["url"], "https://example.com/demo.git");

        // The compiler: the binary that ran, hashed as sha256sum hashes it.
        let compiler = tool(&doc, "cxx");
        assert_eq!(compiler["name"], cxx);
        let real = sh(dir, &format!("readlink -f \"$(command -v {cxx})\""));
        assert_eq!(prop(compiler, "gridrun:path"), Some(real.clone()));
        assert_eq!(compiler["hashes"][0]["alg"], "SHA-256");
        assert_eq!(compiler["hashes"][0]["content"], sha256sum(&real));
        assert!(compiler["version"].as_str().is_some_and(|v| !v.is_empty()), "{compiler}");

        // The artifacts: the library as sha256sum hashes the file the job built, and the file
        // named after the secret, masked.
        let shown: Value = serde_json::from_str(&t.ok(&["show", &format!("latest/{slug}"), "--json"])).unwrap();
        let work = shown["work_dir"].as_str().expect("the workspace was kept");
        let built = sha256sum(&format!("{work}/build/libdemo.a"));
        let artifacts = files(&doc);
        assert_eq!(artifacts.len(), 2, "{doc:#}");
        let lib = artifacts.iter().find(|a| a["name"].as_str().unwrap().ends_with("libdemo.a")).unwrap();
        assert_eq!(lib["hashes"][0]["content"], built);
        assert!(artifacts.iter().any(|a| a["name"].as_str().unwrap().contains("note-***.txt")), "{doc:#}");

        // Everything hangs off the job.
        let deps = doc["dependencies"].as_array().unwrap();
        let of_job = deps.iter().find(|d| d["ref"] == job["bom-ref"]).unwrap();
        assert_eq!(of_job["dependsOn"].as_array().unwrap().len(), doc["components"].as_array().unwrap().len());

        // The run wrote the same document beside the job's logs.
        let beside = t.state_dir().join("runs").join(shown["run"].as_i64().unwrap().to_string()).join(slug);
        let written = std::fs::read_to_string(beside.join("sbom.cdx.json")).expect("sbom.cdx.json beside the logs");
        assert_eq!(written, text);
    }

    // A tree with local changes says so.
    std::fs::write(dir.join("lib.cpp"), "int answer() { return 43; }\n").unwrap();
    let out = t.command().args(["run", "--cell", "gcc-12-17-plain"]).env("SBOM_TOKEN", SECRET).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let dirty: Value = serde_json::from_str(&t.ok(&["sbom", "latest/gcc-12-17-plain"])).unwrap();
    assert_eq!(prop(&dirty["components"][0], "gridrun:source:dirty").as_deref(), Some("true"));
    assert_eq!(prop(&dirty["components"][0], "gridrun:source:commit"), Some(commit.clone()));

    // The whole run: an array on stdout, or a file per job.
    let all = t.ok(&["sbom", "1"]);
    validate(&all);
    let all: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let out_dir = dir.join("boms");
    t.ok(&["sbom", "1", "-o", out_dir.to_str().unwrap()]);
    for slug in ["gcc-12-17-plain", "clang-19-17-plain"] {
        validate(&std::fs::read_to_string(out_dir.join(format!("{slug}.cdx.json"))).unwrap());
    }
}

#[test]
fn a_job_without_artifacts_still_has_a_valid_bill_of_materials() {
    let t = Test::new().matrix(
        r#"
[project]
name = "bare"

[matrix]
llvm = ["14"]

[[steps]]
name = "configure"
run = "cmake --version > /dev/null && {{ llvm_config }} --version"
"#,
    );
    run(&t);
    let text = t.ok(&["sbom", "latest/14"]);
    validate(&text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(files(&doc).is_empty(), "{doc:#}");
    // Not a git checkout: no commit, and no made-up one.
    assert_eq!(prop(&doc["components"][0], "gridrun:source:commit"), None);
    // The steps run CMake: its version is in, as `cmake --version` says it.
    let cmake = tool(&doc, "cmake");
    let said = sh(t.path(), "cmake --version | head -n1");
    assert_eq!(said, format!("cmake version {}", cmake["version"].as_str().unwrap()));
    // LLVM, where the cell has one: the llvm-config that ran, hashed.
    let llvm = tool(&doc, "llvm-config");
    let real = sh(t.path(), "readlink -f \"$(command -v llvm-config-14)\"");
    assert_eq!(prop(llvm, "gridrun:path"), Some(real.clone()));
    assert_eq!(llvm["hashes"][0]["content"], sha256sum(&real));
    assert!(llvm["version"].as_str().is_some_and(|v| v.starts_with("14")), "{llvm}");
    let out = t.path().join("one.json");
    t.ok(&["sbom", "latest/14", "-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);

    // A run merged into another state folder keeps what its run found of its tools.
    let elsewhere = Test::new().matrix("[project]\nname = \"bare\"\n\n[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    elsewhere.ok(&["merge", t.state_dir().to_str().unwrap()]);
    assert_eq!(elsewhere.ok(&["sbom", "latest/14"]), text);

    // gc takes the run's folder, its file with it; the store still renders the document.
    t.ok(&["gc", "--older-than", "0s"]);
    assert!(!t.state_dir().join("runs/1/14/sbom.cdx.json").exists());
    validate(&t.ok(&["sbom", "latest/14"]));
}

#[test]
fn a_run_that_is_not_there_is_one_line_and_exit_2() {
    let t = Test::new().matrix("[[steps]]\nname = \"x\"\nrun = \"true\"\n");
    run(&t);
    let line = t.fails(&["sbom", "99"]);
    assert!(line.contains("99"), "{line}");
    let line = t.fails(&["sbom", "latest/nope"]);
    assert!(line.contains("nope"), "{line}");
}

/// A cell in a container image: the image and its digest are in, and the compiler is named as the
/// plan resolved it, with no path or hash of a binary this host did not run.
#[test]
fn a_cell_in_an_image_names_the_image_and_its_digest() {
    assert!(have("podman") && have("mmdebstrap"), "podman and mmdebstrap are not installed: run .ci/install-deps");
    let (image, id) = test_image();
    let t = Test::new()
        .matrix(&format!(
            "[project]\nname = \"boxed\"\n[matrix]\ncompiler = [\"clang-15\"]\n[container]\nimage = \"{image}\"\n\
             [[steps]]\nname = \"build\"\nrun = \"{{{{ cxx }}}} -c {{{{ source }}}}/lib.cpp -o {{{{ build_dir }}}}/lib.o\"\n\
             [artifacts]\npatterns = [\"{{{{ build_dir }}}}/lib.o\"]\n"
        ))
        .file("lib.cpp", "int answer() { return 42; }\n");
    let out = t.process().env("CONTAINERS_CONF", containers_conf()).arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = t.ok(&["sbom", "latest/clang-15"]);
    validate(&text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    let boxed = tool(&doc, "image");
    assert_eq!((boxed["type"].as_str(), boxed["name"].as_str()), (Some("container"), Some(image.as_str())));
    assert_eq!(boxed["hashes"][0]["content"], id.trim_start_matches("sha256:"));
    let compiler = tool(&doc, "cxx");
    assert_eq!(compiler["name"], "clang++-15");
    assert_eq!((prop(compiler, "gridrun:path"), compiler.get("hashes")), (None, None), "{compiler}");
    assert_eq!(files(&doc).len(), 1, "{doc:#}");
}
