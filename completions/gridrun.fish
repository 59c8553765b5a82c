# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_gridrun_global_optspecs
    string join \n state-dir= color= hosts= h/help V/version
end

function __fish_gridrun_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_gridrun_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_gridrun_using_subcommand
    set -l cmd (__fish_gridrun_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c gridrun -n "__fish_gridrun_needs_command" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_needs_command" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_needs_command" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_needs_command" -s V -l version -d 'Print version'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "plan" -d 'Expand the matrix and print its jobs, with the cells this host cannot run and why'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "run" -d 'Run the jobs in parallel within CPU, memory and time limits, and record them'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "status" -d 'Recent runs, one line each'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "history" -d 'Recent runs, one line each'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "show" -d 'A run (its grid and jobs) or a job (steps, durations, memory, log paths)'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "log" -d 'Print a job\'s log'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "report" -d 'Write a run as an HTML page, Markdown, JUnit XML or JSON'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "sbom" -d 'A job\'s bill of materials (CycloneDX 1.5 JSON): source, toolchain, cell, environment, artifacts with their SHA-256'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "notify" -d 'Send the notifications a run triggers (`[[notify]]`), or show them with `--dry-run`'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "compare" -d 'What newly fails, what was fixed, what got slower between two runs'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "stats" -d 'Success rates, durations, failure kinds and flaky cells over recent days'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "gc" -d 'Drop logs, workspaces and artifacts past their retention'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "merge" -d 'Bring runs recorded in other state folders (shards run on other machines) into this one'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "toolchains" -d 'List the compilers, LLVMs and C++ standards found on this host'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "hosts" -d 'The build hosts: what each serves, its capacity, and whether it answers'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "collect" -d 'Fold what a Slurm run\'s tasks have finished into its run; say what is still queued'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "init" -d 'Write a starter gridrun.toml from the compilers found on this host'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "__slurm-task" -d 'Runs one Slurm array task (started by Slurm for `run --on slurm`)'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "__reap" -d 'Kills what a run left behind once its gridrun is gone (started by `run` itself)'
complete -c gridrun -n "__fish_gridrun_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -s f -l filter -d 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l exclude -d 'Drop cells whose KEY matches one of the globs (as `-f KEY!=GLOB`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l cell -d 'Keep only the cells with these slugs (repeat, or separate with commas); a cell picked so that cannot run here fails the run' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l format -d 'Output format' -r -f -a "table\t'A table for people'
json\t'`{"schema":1, "project", "jobs":[…]}`'
github\t'`{"include":[…]}`: the fan-out for a GitHub Actions matrix\'s `fromJSON`, every cell a runner could build, packed under GitHub\'s 256 jobs'
gitlab\t'A child pipeline whose `parallel:matrix` runs every cell a runner could build, packed under GitLab\'s 200 jobs'"
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l on -d '`slurm`: submit the jobs to the Slurm cluster this is a login node of, as job arrays' -r -f -a "slurm\t'A Slurm cluster'"
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l pack -d 'Cells per Slurm array task (a number, or `auto` to fill about a minute by past durations)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l partition -d 'Slurm partition (over `[slurm] partition`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l account -d 'Slurm account (over `[slurm] account`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l qos -d 'Slurm QoS (over `[slurm] qos`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -l allow-empty -d 'Exit 0 where the selection holds nothing to run (default: exit 4)'
complete -c gridrun -n "__fish_gridrun_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -s f -l filter -d 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l exclude -d 'Drop cells whose KEY matches one of the globs (as `-f KEY!=GLOB`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l cell -d 'Keep only the cells with these slugs (repeat, or separate with commas); a cell picked so that cannot run here fails the run' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -s j -l jobs -d 'Concurrent jobs at most (default: `limits.jobs`, else host CPUs / `limits.cpus`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l cpus -d 'CPU slots to share out (default: this host\'s CPUs)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l memory -d 'Memory to share out, e.g. `16GiB` (default: the host\'s available memory)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l retries -d 'Retry every step up to N times on failure, whatever the file says' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l max-failures -d 'Stop after N failures' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l timeout -d 'Time limit per job, overriding `limits.timeout`, e.g. `10m`' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l shard -d 'Run only slice K of N (1-based), e.g. `--shard 2/4`; the slices of 1..N cover every job once' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l pivot -d 'The grid\'s rows and columns: two keys of the matrix (default: compiler,cxx_standard)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l rerun-failed -d 'Run only the cells that failed in RUN, or were cancelled before they finished (default: the latest run)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l junit -d 'Write JUnit XML here when the run ends' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l report -d 'Write the HTML report here, rewritten as jobs finish (it reloads itself while the run lasts)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l on -d '`slurm`: submit the jobs to the Slurm cluster this is a login node of, as job arrays' -r -f -a "slurm\t'A Slurm cluster'"
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l pack -d 'Cells per Slurm array task (a number, or `auto` to fill about a minute by past durations)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l partition -d 'Slurm partition (over `[slurm] partition`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l account -d 'Slurm account (over `[slurm] account`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l qos -d 'Slurm QoS (over `[slurm] qos`)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l branch -d 'Follow the branches matching GLOB (repeatable): a git source is built once per matching branch of its repository; a folder only while its checked-out branch matches' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l allow-empty -d 'Exit 0 where the selection holds nothing to run (default: exit 4)'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l fail-fast -d 'Stop at the first failure: queued jobs are cancelled, running ones terminated'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l no-fail-fast -d 'Run every job whatever fails (the default; undoes an earlier `--fail-fast`)'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l strict -d 'Fail the run for any cell this host cannot serve, not only for cells picked with `--cell` or `--shard`'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l dry-run -l list -d 'Print the plan of what would run, and run nothing'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l keep-workspaces -d 'Keep every job\'s workspace (by default only failed jobs keep theirs)'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l skip-passed -d 'Do not run a cell whose config already passed at this commit; record it as `reused`'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l detach -d 'With `--on slurm`: submit, print the run\'s id, and exit; `gridrun collect` folds it in'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -l if-changed -d 'Run only where the source moved since the last finished run of this configuration (a git source\'s remote branch, read without cloning; a folder\'s commit and local changes); say so and exit 0 where it did not. For cron'
complete -c gridrun -n "__fish_gridrun_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand status" -s n -l limit -d 'How many runs to list' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand status" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand status" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand status" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand status" -l json -d 'Print JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand history" -s n -l limit -d 'How many runs to list' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand history" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand history" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand history" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand history" -l json -d 'Print JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand show" -l matrix -d 'A matrix file or folder, to find its state folder (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand show" -l pivot -d 'The grid\'s rows and columns (default: compiler,cxx_standard)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand show" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand show" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand show" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand show" -l json -d 'Print JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand log" -l step -d 'Only this step (default: every step, in order)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand log" -l matrix -d 'A matrix file or folder, to find its state folder (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand log" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand log" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand log" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand log" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l format -d 'The format' -r -f -a "html\t'One self-contained HTML page'
md\t'GitHub-flavoured Markdown'
junit\t'JUnit XML: a testsuite per cell'
json\t'DESIGN\'s `show --json` shape'"
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -s o -l output -d 'Where to write it: a file (replaced atomically), a pipe or device, or `-` for stdout (the default)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l baseline -d 'A run to compare against: newly failing and fixed cells are marked' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l days -d 'With --history: how many days back' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l project -d 'With --history: only this project' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l pivot -d 'The grid\'s rows and columns (default: compiler,cxx_standard)' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l matrix -d 'A matrix file or folder, to find its state folder (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -l history -d 'Not one run: a page of trends per project (success rate, cells and durations per day, the slowest, flakiest and most failing cells) over the last `--days`'
complete -c gridrun -n "__fish_gridrun_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand sbom" -l format -d 'The document\'s format' -r -f -a "cyclonedx\t'CycloneDX 1.5 JSON'"
complete -c gridrun -n "__fish_gridrun_using_subcommand sbom" -s o -l output -d 'Where to write it: for a job, a file (or a folder to write `JOB.cdx.json` into); for a run, a folder that gets one `JOB.cdx.json` per job. Default: stdout (a run\'s documents as one JSON array)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand sbom" -l matrix -d 'A matrix file or folder, to find its state folder (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand sbom" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand sbom" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand sbom" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand sbom" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand notify" -l matrix -d 'The matrix file (or folder) whose `[[notify]]` entries apply, and its state folder (default: the file the run was made from)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand notify" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand notify" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand notify" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand notify" -l dry-run -d 'Show what would be sent, and to whom; send nothing'
complete -c gridrun -n "__fish_gridrun_using_subcommand notify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand compare" -l matrix -d 'A matrix file or folder, to find its state folder (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand compare" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand compare" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand compare" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand compare" -l json -d 'Print JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand compare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -l days -d 'Over the last N days' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -l project -d 'Only this project' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -l matrix -d 'A matrix file or folder, to find its state folder (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -l json -d 'Print JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand stats" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand gc" -l older-than -d 'Drop what is older than this (e.g. `14d`), whatever the file\'s retention says' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand gc" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand gc" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand gc" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand gc" -l dry-run -d 'Show what would go, remove nothing'
complete -c gridrun -n "__fish_gridrun_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand merge" -l matrix -d 'A matrix file or folder, to find the state folder to merge into (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand merge" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand merge" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand merge" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand merge" -l all -d 'Every run of each source, not only its latest'
complete -c gridrun -n "__fish_gridrun_using_subcommand merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand toolchains" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand toolchains" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand toolchains" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand toolchains" -l json -d 'Print JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand toolchains" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand hosts" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand hosts" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand hosts" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand hosts" -l probe -d 'Connect to each host and list its toolchains (otherwise only the files are read)'
complete -c gridrun -n "__fish_gridrun_using_subcommand hosts" -l json -d 'Print JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand hosts" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand collect" -l matrix -d 'A matrix file or folder, to find its state folder (default lookup otherwise)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand collect" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand collect" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand collect" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand collect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand init" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand init" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand init" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand init" -l force -d 'Replace an existing gridrun.toml'
complete -c gridrun -n "__fish_gridrun_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand completions" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand completions" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand completions" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand __slurm-task" -l offset -d 'The task number of the array\'s index 0' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand __slurm-task" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand __slurm-task" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand __slurm-task" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand __slurm-task" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand __reap" -l grace-ms -d 'Time between SIGTERM and SIGKILL, in milliseconds' -r
complete -c gridrun -n "__fish_gridrun_using_subcommand __reap" -l state-dir -d 'The state folder (default: `.gridrun` beside the matrix file)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand __reap" -l color -d 'When to use colour' -r -f -a "auto\t'Colour on a terminal, unless `NO_COLOR` is set'
always\t'Always colour'
never\t'Never colour'"
complete -c gridrun -n "__fish_gridrun_using_subcommand __reap" -l hosts -d 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)' -r -F
complete -c gridrun -n "__fish_gridrun_using_subcommand __reap" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "plan" -d 'Expand the matrix and print its jobs, with the cells this host cannot run and why'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "run" -d 'Run the jobs in parallel within CPU, memory and time limits, and record them'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "status" -d 'Recent runs, one line each'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "show" -d 'A run (its grid and jobs) or a job (steps, durations, memory, log paths)'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "log" -d 'Print a job\'s log'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "report" -d 'Write a run as an HTML page, Markdown, JUnit XML or JSON'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "sbom" -d 'A job\'s bill of materials (CycloneDX 1.5 JSON): source, toolchain, cell, environment, artifacts with their SHA-256'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "notify" -d 'Send the notifications a run triggers (`[[notify]]`), or show them with `--dry-run`'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "compare" -d 'What newly fails, what was fixed, what got slower between two runs'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "stats" -d 'Success rates, durations, failure kinds and flaky cells over recent days'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "gc" -d 'Drop logs, workspaces and artifacts past their retention'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "merge" -d 'Bring runs recorded in other state folders (shards run on other machines) into this one'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "toolchains" -d 'List the compilers, LLVMs and C++ standards found on this host'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "hosts" -d 'The build hosts: what each serves, its capacity, and whether it answers'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "collect" -d 'Fold what a Slurm run\'s tasks have finished into its run; say what is still queued'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "init" -d 'Write a starter gridrun.toml from the compilers found on this host'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "completions" -d 'Print a shell completion script'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "__slurm-task" -d 'Runs one Slurm array task (started by Slurm for `run --on slurm`)'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "__reap" -d 'Kills what a run left behind once its gridrun is gone (started by `run` itself)'
complete -c gridrun -n "__fish_gridrun_using_subcommand help; and not __fish_seen_subcommand_from plan run status show log report sbom notify compare stats gc merge toolchains hosts collect init completions __slurm-task __reap help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
