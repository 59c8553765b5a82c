
use builtin;
use str;

set edit:completion:arg-completer[gridrun] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'gridrun'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'gridrun'= {
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand plan 'Expand the matrix and print its jobs, with the cells this host cannot run and why'
            cand run 'Run the jobs in parallel within CPU, memory and time limits, and record them'
            cand status 'Recent runs, one line each'
            cand history 'Recent runs, one line each'
            cand show 'A run (its grid and jobs) or a job (steps, durations, memory, log paths)'
            cand log 'Print a job''s log'
            cand report 'Write a run as an HTML page, Markdown, JUnit XML or JSON'
            cand sbom 'A job''s bill of materials (CycloneDX 1.5 JSON): source, toolchain, cell, environment, artifacts with their SHA-256'
            cand notify 'Send the notifications a run triggers (`[[notify]]`), or show them with `--dry-run`'
            cand compare 'What newly fails, what was fixed, what got slower between two runs'
            cand stats 'Success rates, durations, failure kinds and flaky cells over recent days'
            cand gc 'Drop logs, workspaces and artifacts past their retention'
            cand merge 'Bring runs recorded in other state folders (shards run on other machines) into this one'
            cand toolchains 'List the compilers, LLVMs and C++ standards found on this host'
            cand hosts 'The build hosts: what each serves, its capacity, and whether it answers'
            cand collect 'Fold what a Slurm run''s tasks have finished into its run; say what is still queued'
            cand init 'Write a starter gridrun.toml from the compilers found on this host'
            cand completions 'Print a shell completion script'
            cand __slurm-task 'Runs one Slurm array task (started by Slurm for `run --on slurm`)'
            cand __reap 'Kills what a run left behind once its gridrun is gone (started by `run` itself)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gridrun;plan'= {
            cand -f 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)'
            cand --filter 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)'
            cand --exclude 'Drop cells whose KEY matches one of the globs (as `-f KEY!=GLOB`)'
            cand --cell 'Keep only the cells with these slugs (repeat, or separate with commas); a cell picked so that cannot run here fails the run'
            cand --format 'Output format'
            cand --on '`slurm`: submit the jobs to the Slurm cluster this is a login node of, as job arrays'
            cand --pack 'Cells per Slurm array task (a number, or `auto` to fill about a minute by past durations)'
            cand --partition 'Slurm partition (over `[slurm] partition`)'
            cand --account 'Slurm account (over `[slurm] account`)'
            cand --qos 'Slurm QoS (over `[slurm] qos`)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --allow-empty 'Exit 0 where the selection holds nothing to run (default: exit 4)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;run'= {
            cand -f 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)'
            cand --filter 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)'
            cand --exclude 'Drop cells whose KEY matches one of the globs (as `-f KEY!=GLOB`)'
            cand --cell 'Keep only the cells with these slugs (repeat, or separate with commas); a cell picked so that cannot run here fails the run'
            cand -j 'Concurrent jobs at most (default: `limits.jobs`, else host CPUs / `limits.cpus`)'
            cand --jobs 'Concurrent jobs at most (default: `limits.jobs`, else host CPUs / `limits.cpus`)'
            cand --cpus 'CPU slots to share out (default: this host''s CPUs)'
            cand --memory 'Memory to share out, e.g. `16GiB` (default: the host''s available memory)'
            cand --retries 'Retry every step up to N times on failure, whatever the file says'
            cand --max-failures 'Stop after N failures'
            cand --timeout 'Time limit per job, overriding `limits.timeout`, e.g. `10m`'
            cand --shard 'Run only slice K of N (1-based), e.g. `--shard 2/4`; the slices of 1..N cover every job once'
            cand --pivot 'The grid''s rows and columns: two keys of the matrix (default: compiler,cxx_standard)'
            cand --rerun-failed 'Run only the cells that failed in RUN, or were cancelled before they finished (default: the latest run)'
            cand --junit 'Write JUnit XML here when the run ends'
            cand --report 'Write the HTML report here, rewritten as jobs finish (it reloads itself while the run lasts)'
            cand --on '`slurm`: submit the jobs to the Slurm cluster this is a login node of, as job arrays'
            cand --pack 'Cells per Slurm array task (a number, or `auto` to fill about a minute by past durations)'
            cand --partition 'Slurm partition (over `[slurm] partition`)'
            cand --account 'Slurm account (over `[slurm] account`)'
            cand --qos 'Slurm QoS (over `[slurm] qos`)'
            cand --branch 'Follow the branches matching GLOB (repeatable): a git source is built once per matching branch of its repository; a folder only while its checked-out branch matches'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --allow-empty 'Exit 0 where the selection holds nothing to run (default: exit 4)'
            cand --fail-fast 'Stop at the first failure: queued jobs are cancelled, running ones terminated'
            cand --no-fail-fast 'Run every job whatever fails (the default; undoes an earlier `--fail-fast`)'
            cand --strict 'Fail the run for any cell this host cannot serve, not only for cells picked with `--cell` or `--shard`'
            cand --dry-run 'Print the plan of what would run, and run nothing'
            cand --list 'Print the plan of what would run, and run nothing'
            cand --keep-workspaces 'Keep every job''s workspace (by default only failed jobs keep theirs)'
            cand --skip-passed 'Do not run a cell whose config already passed at this commit; record it as `reused`'
            cand --detach 'With `--on slurm`: submit, print the run''s id, and exit; `gridrun collect` folds it in'
            cand --if-changed 'Run only where the source moved since the last finished run of this configuration (a git source''s remote branch, read without cloning; a folder''s commit and local changes); say so and exit 0 where it did not. For cron'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;status'= {
            cand -n 'How many runs to list'
            cand --limit 'How many runs to list'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;history'= {
            cand -n 'How many runs to list'
            cand --limit 'How many runs to list'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;show'= {
            cand --matrix 'A matrix file or folder, to find its state folder (default lookup otherwise)'
            cand --pivot 'The grid''s rows and columns (default: compiler,cxx_standard)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;log'= {
            cand --step 'Only this step (default: every step, in order)'
            cand --matrix 'A matrix file or folder, to find its state folder (default lookup otherwise)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;report'= {
            cand --format 'The format'
            cand -o 'Where to write it: a file (replaced atomically), a pipe or device, or `-` for stdout (the default)'
            cand --output 'Where to write it: a file (replaced atomically), a pipe or device, or `-` for stdout (the default)'
            cand --baseline 'A run to compare against: newly failing and fixed cells are marked'
            cand --days 'With --history: how many days back'
            cand --project 'With --history: only this project'
            cand --pivot 'The grid''s rows and columns (default: compiler,cxx_standard)'
            cand --matrix 'A matrix file or folder, to find its state folder (default lookup otherwise)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --history 'Not one run: a page of trends per project (success rate, cells and durations per day, the slowest, flakiest and most failing cells) over the last `--days`'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;sbom'= {
            cand --format 'The document''s format'
            cand -o 'Where to write it: for a job, a file (or a folder to write `JOB.cdx.json` into); for a run, a folder that gets one `JOB.cdx.json` per job. Default: stdout (a run''s documents as one JSON array)'
            cand --output 'Where to write it: for a job, a file (or a folder to write `JOB.cdx.json` into); for a run, a folder that gets one `JOB.cdx.json` per job. Default: stdout (a run''s documents as one JSON array)'
            cand --matrix 'A matrix file or folder, to find its state folder (default lookup otherwise)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;notify'= {
            cand --matrix 'The matrix file (or folder) whose `[[notify]]` entries apply, and its state folder (default: the file the run was made from)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --dry-run 'Show what would be sent, and to whom; send nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;compare'= {
            cand --matrix 'A matrix file or folder, to find its state folder (default lookup otherwise)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;stats'= {
            cand --days 'Over the last N days'
            cand --project 'Only this project'
            cand --matrix 'A matrix file or folder, to find its state folder (default lookup otherwise)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;gc'= {
            cand --older-than 'Drop what is older than this (e.g. `14d`), whatever the file''s retention says'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --dry-run 'Show what would go, remove nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;merge'= {
            cand --matrix 'A matrix file or folder, to find the state folder to merge into (default lookup otherwise)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --all 'Every run of each source, not only its latest'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;toolchains'= {
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;hosts'= {
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --probe 'Connect to each host and list its toolchains (otherwise only the files are read)'
            cand --json 'Print JSON'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;collect'= {
            cand --matrix 'A matrix file or folder, to find its state folder (default lookup otherwise)'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;init'= {
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand --force 'Replace an existing gridrun.toml'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;completions'= {
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;__slurm-task'= {
            cand --offset 'The task number of the array''s index 0'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;__reap'= {
            cand --grace-ms 'Time between SIGTERM and SIGKILL, in milliseconds'
            cand --state-dir 'The state folder (default: `.gridrun` beside the matrix file)'
            cand --color 'When to use colour'
            cand --hosts 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'gridrun;help'= {
            cand plan 'Expand the matrix and print its jobs, with the cells this host cannot run and why'
            cand run 'Run the jobs in parallel within CPU, memory and time limits, and record them'
            cand status 'Recent runs, one line each'
            cand show 'A run (its grid and jobs) or a job (steps, durations, memory, log paths)'
            cand log 'Print a job''s log'
            cand report 'Write a run as an HTML page, Markdown, JUnit XML or JSON'
            cand sbom 'A job''s bill of materials (CycloneDX 1.5 JSON): source, toolchain, cell, environment, artifacts with their SHA-256'
            cand notify 'Send the notifications a run triggers (`[[notify]]`), or show them with `--dry-run`'
            cand compare 'What newly fails, what was fixed, what got slower between two runs'
            cand stats 'Success rates, durations, failure kinds and flaky cells over recent days'
            cand gc 'Drop logs, workspaces and artifacts past their retention'
            cand merge 'Bring runs recorded in other state folders (shards run on other machines) into this one'
            cand toolchains 'List the compilers, LLVMs and C++ standards found on this host'
            cand hosts 'The build hosts: what each serves, its capacity, and whether it answers'
            cand collect 'Fold what a Slurm run''s tasks have finished into its run; say what is still queued'
            cand init 'Write a starter gridrun.toml from the compilers found on this host'
            cand completions 'Print a shell completion script'
            cand __slurm-task 'Runs one Slurm array task (started by Slurm for `run --on slurm`)'
            cand __reap 'Kills what a run left behind once its gridrun is gone (started by `run` itself)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gridrun;help;plan'= {
        }
        &'gridrun;help;run'= {
        }
        &'gridrun;help;status'= {
        }
        &'gridrun;help;show'= {
        }
        &'gridrun;help;log'= {
        }
        &'gridrun;help;report'= {
        }
        &'gridrun;help;sbom'= {
        }
        &'gridrun;help;notify'= {
        }
        &'gridrun;help;compare'= {
        }
        &'gridrun;help;stats'= {
        }
        &'gridrun;help;gc'= {
        }
        &'gridrun;help;merge'= {
        }
        &'gridrun;help;toolchains'= {
        }
        &'gridrun;help;hosts'= {
        }
        &'gridrun;help;collect'= {
        }
        &'gridrun;help;init'= {
        }
        &'gridrun;help;completions'= {
        }
        &'gridrun;help;__slurm-task'= {
        }
        &'gridrun;help;__reap'= {
        }
        &'gridrun;help;help'= {
        }
    ]
    $completions[$command]
}
