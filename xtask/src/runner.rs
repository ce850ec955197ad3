//! Runs a table of steps (cargo commands, or another program such as `bash`): streams their
//! output, times them, stops at the first failure and prints a summary table.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

/// One command of a task: `cargo <args>` (or `<program> <args>`) run from the workspace root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// Short name shown in progress lines, errors and the summary.
    pub(crate) name: &'static str,
    /// The program to run; `None` is cargo.
    pub(crate) program: Option<&'static str>,
    /// Arguments after the program.
    pub(crate) args: &'static [&'static str],
    /// Extra environment variables for this step only.
    pub(crate) env: &'static [(&'static str, &'static str)],
    /// A cargo subcommand to install first when it is missing.
    pub(crate) needs: Option<&'static Tool>,
    /// Whether the step runs libtest binaries whose `test result:` lines should be totalled.
    pub(crate) counts_tests: bool,
}

impl Step {
    /// A step with no arguments, environment or tool; table rows override what they need.
    pub(crate) const DEFAULT: Step =
        Step { name: "", program: None, args: &[], env: &[], needs: None, counts_tests: false };
}

/// A cargo subcommand installed on demand (`cargo install`) when its probe fails.
#[derive(Debug)]
pub(crate) struct Tool {
    /// The crate name, for messages.
    pub(crate) name: &'static str,
    /// Arguments after `cargo` that succeed only when the tool is installed.
    pub(crate) probe: &'static [&'static str],
    /// Arguments after `cargo` that install the tool.
    pub(crate) install: &'static [&'static str],
}

/// How one row of the summary ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The command exited successfully.
    Passed,
    /// The command failed or could not start.
    Failed,
    /// An earlier step failed, so this one never ran.
    Skipped,
}

/// One row of the summary table.
#[derive(Debug)]
struct Record {
    /// The step (or tool install) name.
    name: String,
    /// How it ended.
    outcome: Outcome,
    /// How long it ran; zero when skipped.
    elapsed: Duration,
}

/// Totals of libtest's `test result:` lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct TestCounts {
    /// Tests that passed.
    passed: u64,
    /// Tests that failed.
    failed: u64,
    /// Tests marked `#[ignore]`.
    ignored: u64,
}

/// Runs the steps of one task and keeps the rows of its summary.
#[derive(Debug)]
pub(crate) struct Runner<'a> {
    /// The task name, for messages.
    task: &'static str,
    /// The workspace root, the working directory of every command.
    root: &'a Path,
    /// The cargo binary: `$CARGO` when cargo started us, else `cargo` from `PATH`.
    cargo: OsString,
    /// Summary rows so far.
    records: Vec<Record>,
    /// Test totals, once a step that counts tests has run.
    tests: Option<TestCounts>,
}

impl<'a> Runner<'a> {
    /// A runner for `task` whose commands run in `root`.
    pub(crate) fn new(task: &'static str, root: &'a Path) -> Self {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Runner { task, root, cargo, records: Vec::new(), tests: None }
    }

    /// Runs `steps` in order, stopping at the first failure, then prints the summary.
    ///
    /// # Errors
    ///
    /// The first failure, naming its step and how long it ran.
    pub(crate) fn run(mut self, steps: &[Step]) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut failure = None;
        for step in steps {
            if failure.is_some() {
                self.record(step.name, Outcome::Skipped, Duration::ZERO);
            } else if let Err(error) = self.step(step) {
                failure = Some(error);
            }
        }
        self.print_summary(started.elapsed());
        failure.map_or(Ok(()), Err)
    }

    /// Runs one step, installing its tool first when needed.
    fn step(&mut self, step: &Step) -> anyhow::Result<()> {
        if let Some(tool) = step.needs {
            self.ensure(tool)?;
        }
        let command = Invocation { program: step.program, args: step.args, env: step.env };
        self.execute(step.name, command, step.counts_tests)
    }

    /// Installs `tool` unless its probe already succeeds.
    fn ensure(&mut self, tool: &Tool) -> anyhow::Result<()> {
        let probe = self.command(None, tool.probe).stderr(Stdio::null()).output();
        if let Some(output) = probe.ok().filter(|output| output.status.success()) {
            let version = String::from_utf8_lossy(&output.stdout);
            eprintln!("==> using {}", version.trim());
            return Ok(());
        }
        eprintln!("==> {} is not installed; installing it", tool.name);
        let install = Invocation { program: None, args: tool.install, env: &[] };
        self.execute(&format!("install {}", tool.name), install, false)
    }

    /// Runs `invocation`, timing it and adding a summary row.
    fn execute(
        &mut self,
        name: &str,
        invocation: Invocation<'_>,
        counts_tests: bool,
    ) -> anyhow::Result<()> {
        let shown = invocation.show();
        eprintln!("\n==> {name}: {shown}");
        let mut command = self.command(invocation.program, invocation.args);
        command.envs(invocation.env.iter().copied());
        let started = Instant::now();
        let status =
            if counts_tests { self.spawn_counting(&mut command) } else { command.status() };
        let elapsed = started.elapsed();
        let took = seconds(elapsed);
        match status {
            Ok(status) if status.success() => {
                self.record(name, Outcome::Passed, elapsed);
                eprintln!("==> {name}: ok in {took}");
                Ok(())
            }
            Ok(status) => {
                self.record(name, Outcome::Failed, elapsed);
                bail!("step `{name}` failed after {took}: `{shown}` exited with {status}")
            }
            Err(error) => {
                self.record(name, Outcome::Failed, elapsed);
                Err(anyhow!(error)).with_context(|| {
                    format!("step `{name}` failed after {took}: cannot run `{shown}`")
                })
            }
        }
    }

    /// Runs `command`, echoing its stdout line by line and totalling libtest result lines.
    fn spawn_counting(&mut self, command: &mut Command) -> std::io::Result<ExitStatus> {
        let mut child = command.stdout(Stdio::piped()).spawn()?;
        let mut counts = TestCounts::default();
        if let Some(stdout) = child.stdout.take() {
            let mut out = std::io::stdout().lock();
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line)? > 0 {
                out.write_all(&line)?;
                out.flush()?;
                if let Some(found) = parse_test_result(&String::from_utf8_lossy(&line)) {
                    counts.add(found);
                }
                line.clear();
            }
        }
        // Several steps may run tests (CI's unit tests, then interop): the totals add up.
        self.tests.get_or_insert_default().add(counts);
        child.wait()
    }

    /// `cargo <args>` (or `<program> <args>`) in the workspace root.
    fn command(&self, program: Option<&str>, args: &[&str]) -> Command {
        let mut command = match program {
            Some(program) => Command::new(program),
            None => Command::new(&self.cargo),
        };
        command.args(args).current_dir(self.root);
        command
    }

    /// Adds a summary row.
    fn record(&mut self, name: &str, outcome: Outcome, elapsed: Duration) {
        self.records.push(Record { name: name.to_owned(), outcome, elapsed });
    }

    /// Prints the summary table, then the test totals as a plain closing line.
    fn print_summary(&self, total: Duration) {
        println!("\nxtask {} summary", self.task);
        println!("  {:<22} {:<8} {:>9}", "step", "result", "time");
        for record in &self.records {
            let (result, time) = match record.outcome {
                Outcome::Passed => ("ok", seconds(record.elapsed)),
                Outcome::Failed => ("FAILED", seconds(record.elapsed)),
                Outcome::Skipped => ("skipped", "-".to_owned()),
            };
            println!("  {:<22} {result:<8} {time:>9}", record.name);
        }
        println!("  {:<22} {:<8} {:>9}", "total", "", seconds(total));
        if let Some(tests) = self.tests {
            println!("\n{}", tests.closing_line());
        }
    }
}

impl TestCounts {
    /// Adds another binary's totals.
    fn add(&mut self, other: TestCounts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// `tests: N passed, N failed, N skipped`, the plain closing line CI log readers look for.
    fn closing_line(self) -> String {
        let TestCounts { passed, failed, ignored } = self;
        format!("tests: {passed} passed, {failed} failed, {ignored} skipped")
    }
}

/// Reads libtest's `test result: ok. 3 passed; 0 failed; 1 ignored; ...` line.
fn parse_test_result(line: &str) -> Option<TestCounts> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let (_, counts) = rest.split_once(". ")?;
    let mut found = TestCounts::default();
    for part in counts.split(';') {
        let mut words = part.split_whitespace();
        let (Some(number), Some(label)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(number) = number.parse() else { continue };
        match label {
            "passed" => found.passed = number,
            "failed" => found.failed = number,
            "ignored" => found.ignored = number,
            _ => {}
        }
    }
    Some(found)
}

/// One command line to run: the program (`None` is cargo), its arguments and extra environment.
#[derive(Debug, Clone, Copy)]
struct Invocation<'a> {
    /// The program; `None` is cargo.
    program: Option<&'a str>,
    /// Arguments after the program.
    args: &'a [&'a str],
    /// Extra environment variables.
    env: &'a [(&'a str, &'a str)],
}

impl Invocation<'_> {
    /// The command as a shell line: `RUSTDOCFLAGS="-D warnings" cargo doc ...`; arguments with
    /// spaces or quotes are single-quoted.
    fn show(&self) -> String {
        let mut words: Vec<String> =
            self.env.iter().map(|(key, value)| format!("{key}={value:?}")).collect();
        words.push(self.program.unwrap_or("cargo").to_owned());
        words.extend(self.args.iter().map(|arg| quote(arg)));
        words.join(" ")
    }
}

/// `arg` as a shell word: as is when plain, else single-quoted.
fn quote(arg: &str) -> String {
    let plain = arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain && !arg.is_empty() {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A duration as seconds with one decimal: `12.3s`.
fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_result_lines() {
        let line = "test result: ok. 12 passed; 1 failed; 3 ignored; 0 measured; 0 filtered out; \
                    finished in 0.52s\n";
        let counts = TestCounts { passed: 12, failed: 1, ignored: 3 };
        assert_eq!(parse_test_result(line), Some(counts));
        assert_eq!(parse_test_result("test foo ... ok"), None);
        assert_eq!(counts.closing_line(), "tests: 12 passed, 1 failed, 3 skipped");
    }

    #[test]
    fn shows_commands_as_shell_lines() {
        let doc = Invocation {
            program: None,
            args: &["doc", "--no-deps"],
            env: &[("RUSTDOCFLAGS", "-D warnings")],
        };
        assert_eq!(doc.show(), r#"RUSTDOCFLAGS="-D warnings" cargo doc --no-deps"#);
        let script =
            Invocation { program: Some("bash"), args: &["-c", "exec run \"$@\"", "run"], env: &[] };
        assert_eq!(script.show(), r#"bash -c 'exec run "$@"' run"#);
    }
}
