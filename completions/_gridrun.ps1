
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'gridrun' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'gridrun'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'gridrun' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Expand the matrix and print its jobs, with the cells this host cannot run and why')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the jobs in parallel within CPU, memory and time limits, and record them')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Recent runs, one line each')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Recent runs, one line each')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'A run (its grid and jobs) or a job (steps, durations, memory, log paths)')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Print a job''s log')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Write a run as an HTML page, Markdown, JUnit XML or JSON')
            [CompletionResult]::new('sbom', 'sbom', [CompletionResultType]::ParameterValue, 'A job''s bill of materials (CycloneDX 1.5 JSON): source, toolchain, cell, environment, artifacts with their SHA-256')
            [CompletionResult]::new('notify', 'notify', [CompletionResultType]::ParameterValue, 'Send the notifications a run triggers (`[[notify]]`), or show them with `--dry-run`')
            [CompletionResult]::new('compare', 'compare', [CompletionResultType]::ParameterValue, 'What newly fails, what was fixed, what got slower between two runs')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Success rates, durations, failure kinds and flaky cells over recent days')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Drop logs, workspaces and artifacts past their retention')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Bring runs recorded in other state folders (shards run on other machines) into this one')
            [CompletionResult]::new('toolchains', 'toolchains', [CompletionResultType]::ParameterValue, 'List the compilers, LLVMs and C++ standards found on this host')
            [CompletionResult]::new('hosts', 'hosts', [CompletionResultType]::ParameterValue, 'The build hosts: what each serves, its capacity, and whether it answers')
            [CompletionResult]::new('collect', 'collect', [CompletionResultType]::ParameterValue, 'Fold what a Slurm run''s tasks have finished into its run; say what is still queued')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a starter gridrun.toml from the compilers found on this host')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('__slurm-task', '__slurm-task', [CompletionResultType]::ParameterValue, 'Runs one Slurm array task (started by Slurm for `run --on slurm`)')
            [CompletionResult]::new('__reap', '__reap', [CompletionResultType]::ParameterValue, 'Kills what a run left behind once its gridrun is gone (started by `run` itself)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gridrun;plan' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Drop cells whose KEY matches one of the globs (as `-f KEY!=GLOB`)')
            [CompletionResult]::new('--cell', '--cell', [CompletionResultType]::ParameterName, 'Keep only the cells with these slugs (repeat, or separate with commas); a cell picked so that cannot run here fails the run')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--on', '--on', [CompletionResultType]::ParameterName, '`slurm`: submit the jobs to the Slurm cluster this is a login node of, as job arrays')
            [CompletionResult]::new('--pack', '--pack', [CompletionResultType]::ParameterName, 'Cells per Slurm array task (a number, or `auto` to fill about a minute by past durations)')
            [CompletionResult]::new('--partition', '--partition', [CompletionResultType]::ParameterName, 'Slurm partition (over `[slurm] partition`)')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Slurm account (over `[slurm] account`)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Slurm QoS (over `[slurm] qos`)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Exit 0 where the selection holds nothing to run (default: exit 4)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;run' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)')
            [CompletionResult]::new('--filter', '--filter', [CompletionResultType]::ParameterName, 'Keep cells whose KEY matches one of the globs (`KEY!=GLOB` drops them); a key given again adds globs (OR), different keys must all match (AND)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Drop cells whose KEY matches one of the globs (as `-f KEY!=GLOB`)')
            [CompletionResult]::new('--cell', '--cell', [CompletionResultType]::ParameterName, 'Keep only the cells with these slugs (repeat, or separate with commas); a cell picked so that cannot run here fails the run')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Concurrent jobs at most (default: `limits.jobs`, else host CPUs / `limits.cpus`)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Concurrent jobs at most (default: `limits.jobs`, else host CPUs / `limits.cpus`)')
            [CompletionResult]::new('--cpus', '--cpus', [CompletionResultType]::ParameterName, 'CPU slots to share out (default: this host''s CPUs)')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Memory to share out, e.g. `16GiB` (default: the host''s available memory)')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retry every step up to N times on failure, whatever the file says')
            [CompletionResult]::new('--max-failures', '--max-failures', [CompletionResultType]::ParameterName, 'Stop after N failures')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Time limit per job, overriding `limits.timeout`, e.g. `10m`')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Run only slice K of N (1-based), e.g. `--shard 2/4`; the slices of 1..N cover every job once')
            [CompletionResult]::new('--pivot', '--pivot', [CompletionResultType]::ParameterName, 'The grid''s rows and columns: two keys of the matrix (default: compiler,cxx_standard)')
            [CompletionResult]::new('--rerun-failed', '--rerun-failed', [CompletionResultType]::ParameterName, 'Run only the cells that failed in RUN, or were cancelled before they finished (default: the latest run)')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write JUnit XML here when the run ends')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the HTML report here, rewritten as jobs finish (it reloads itself while the run lasts)')
            [CompletionResult]::new('--on', '--on', [CompletionResultType]::ParameterName, '`slurm`: submit the jobs to the Slurm cluster this is a login node of, as job arrays')
            [CompletionResult]::new('--pack', '--pack', [CompletionResultType]::ParameterName, 'Cells per Slurm array task (a number, or `auto` to fill about a minute by past durations)')
            [CompletionResult]::new('--partition', '--partition', [CompletionResultType]::ParameterName, 'Slurm partition (over `[slurm] partition`)')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Slurm account (over `[slurm] account`)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Slurm QoS (over `[slurm] qos`)')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'Follow the branches matching GLOB (repeatable): a git source is built once per matching branch of its repository; a folder only while its checked-out branch matches')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--allow-empty', '--allow-empty', [CompletionResultType]::ParameterName, 'Exit 0 where the selection holds nothing to run (default: exit 4)')
            [CompletionResult]::new('--fail-fast', '--fail-fast', [CompletionResultType]::ParameterName, 'Stop at the first failure: queued jobs are cancelled, running ones terminated')
            [CompletionResult]::new('--no-fail-fast', '--no-fail-fast', [CompletionResultType]::ParameterName, 'Run every job whatever fails (the default; undoes an earlier `--fail-fast`)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Fail the run for any cell this host cannot serve, not only for cells picked with `--cell` or `--shard`')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan of what would run, and run nothing')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'Print the plan of what would run, and run nothing')
            [CompletionResult]::new('--keep-workspaces', '--keep-workspaces', [CompletionResultType]::ParameterName, 'Keep every job''s workspace (by default only failed jobs keep theirs)')
            [CompletionResult]::new('--skip-passed', '--skip-passed', [CompletionResultType]::ParameterName, 'Do not run a cell whose config already passed at this commit; record it as `reused`')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'With `--on slurm`: submit, print the run''s id, and exit; `gridrun collect` folds it in')
            [CompletionResult]::new('--if-changed', '--if-changed', [CompletionResultType]::ParameterName, 'Run only where the source moved since the last finished run of this configuration (a git source''s remote branch, read without cloning; a folder''s commit and local changes); say so and exit 0 where it did not. For cron')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;status' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many runs to list')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many runs to list')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;history' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many runs to list')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many runs to list')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;show' {
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find its state folder (default lookup otherwise)')
            [CompletionResult]::new('--pivot', '--pivot', [CompletionResultType]::ParameterName, 'The grid''s rows and columns (default: compiler,cxx_standard)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;log' {
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Only this step (default: every step, in order)')
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find its state folder (default lookup otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;report' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write it: a file (replaced atomically), a pipe or device, or `-` for stdout (the default)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write it: a file (replaced atomically), a pipe or device, or `-` for stdout (the default)')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'A run to compare against: newly failing and fixed cells are marked')
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'With --history: how many days back')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'With --history: only this project')
            [CompletionResult]::new('--pivot', '--pivot', [CompletionResultType]::ParameterName, 'The grid''s rows and columns (default: compiler,cxx_standard)')
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find its state folder (default lookup otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--history', '--history', [CompletionResultType]::ParameterName, 'Not one run: a page of trends per project (success rate, cells and durations per day, the slowest, flakiest and most failing cells) over the last `--days`')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;sbom' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The document''s format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write it: for a job, a file (or a folder to write `JOB.cdx.json` into); for a run, a folder that gets one `JOB.cdx.json` per job. Default: stdout (a run''s documents as one JSON array)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write it: for a job, a file (or a folder to write `JOB.cdx.json` into); for a run, a folder that gets one `JOB.cdx.json` per job. Default: stdout (a run''s documents as one JSON array)')
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find its state folder (default lookup otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;notify' {
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'The matrix file (or folder) whose `[[notify]]` entries apply, and its state folder (default: the file the run was made from)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be sent, and to whom; send nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;compare' {
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find its state folder (default lookup otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;stats' {
            [CompletionResult]::new('--days', '--days', [CompletionResultType]::ParameterName, 'Over the last N days')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Only this project')
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find its state folder (default lookup otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;gc' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Drop what is older than this (e.g. `14d`), whatever the file''s retention says')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would go, remove nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;merge' {
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find the state folder to merge into (default lookup otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every run of each source, not only its latest')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;toolchains' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;hosts' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--probe', '--probe', [CompletionResultType]::ParameterName, 'Connect to each host and list its toolchains (otherwise only the files are read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;collect' {
            [CompletionResult]::new('--matrix', '--matrix', [CompletionResultType]::ParameterName, 'A matrix file or folder, to find its state folder (default lookup otherwise)')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;init' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing gridrun.toml')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;completions' {
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;__slurm-task' {
            [CompletionResult]::new('--offset', '--offset', [CompletionResultType]::ParameterName, 'The task number of the array''s index 0')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;__reap' {
            [CompletionResult]::new('--grace-ms', '--grace-ms', [CompletionResultType]::ParameterName, 'Time between SIGTERM and SIGKILL, in milliseconds')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'The state folder (default: `.gridrun` beside the matrix file)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The build hosts file (default: `$XDG_CONFIG_HOME/gridrun/hosts.toml`, where it exists)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'gridrun;help' {
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Expand the matrix and print its jobs, with the cells this host cannot run and why')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the jobs in parallel within CPU, memory and time limits, and record them')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Recent runs, one line each')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'A run (its grid and jobs) or a job (steps, durations, memory, log paths)')
            [CompletionResult]::new('log', 'log', [CompletionResultType]::ParameterValue, 'Print a job''s log')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Write a run as an HTML page, Markdown, JUnit XML or JSON')
            [CompletionResult]::new('sbom', 'sbom', [CompletionResultType]::ParameterValue, 'A job''s bill of materials (CycloneDX 1.5 JSON): source, toolchain, cell, environment, artifacts with their SHA-256')
            [CompletionResult]::new('notify', 'notify', [CompletionResultType]::ParameterValue, 'Send the notifications a run triggers (`[[notify]]`), or show them with `--dry-run`')
            [CompletionResult]::new('compare', 'compare', [CompletionResultType]::ParameterValue, 'What newly fails, what was fixed, what got slower between two runs')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Success rates, durations, failure kinds and flaky cells over recent days')
            [CompletionResult]::new('gc', 'gc', [CompletionResultType]::ParameterValue, 'Drop logs, workspaces and artifacts past their retention')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Bring runs recorded in other state folders (shards run on other machines) into this one')
            [CompletionResult]::new('toolchains', 'toolchains', [CompletionResultType]::ParameterValue, 'List the compilers, LLVMs and C++ standards found on this host')
            [CompletionResult]::new('hosts', 'hosts', [CompletionResultType]::ParameterValue, 'The build hosts: what each serves, its capacity, and whether it answers')
            [CompletionResult]::new('collect', 'collect', [CompletionResultType]::ParameterValue, 'Fold what a Slurm run''s tasks have finished into its run; say what is still queued')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a starter gridrun.toml from the compilers found on this host')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('__slurm-task', '__slurm-task', [CompletionResultType]::ParameterValue, 'Runs one Slurm array task (started by Slurm for `run --on slurm`)')
            [CompletionResult]::new('__reap', '__reap', [CompletionResultType]::ParameterValue, 'Kills what a run left behind once its gridrun is gone (started by `run` itself)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'gridrun;help;plan' {
            break
        }
        'gridrun;help;run' {
            break
        }
        'gridrun;help;status' {
            break
        }
        'gridrun;help;show' {
            break
        }
        'gridrun;help;log' {
            break
        }
        'gridrun;help;report' {
            break
        }
        'gridrun;help;sbom' {
            break
        }
        'gridrun;help;notify' {
            break
        }
        'gridrun;help;compare' {
            break
        }
        'gridrun;help;stats' {
            break
        }
        'gridrun;help;gc' {
            break
        }
        'gridrun;help;merge' {
            break
        }
        'gridrun;help;toolchains' {
            break
        }
        'gridrun;help;hosts' {
            break
        }
        'gridrun;help;collect' {
            break
        }
        'gridrun;help;init' {
            break
        }
        'gridrun;help;completions' {
            break
        }
        'gridrun;help;__slurm-task' {
            break
        }
        'gridrun;help;__reap' {
            break
        }
        'gridrun;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
