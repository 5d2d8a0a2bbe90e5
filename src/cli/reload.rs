//! `kepgate reload`: finds the running `kepgate serve` (or takes `--pid`), tries the
//! configuration exactly as that process will read it — its `--config` file, its environment,
//! its working directory — and only if that configuration would be applied, sends it SIGHUP (as
//! `systemctl reload` does). Otherwise it says why not: the configuration is wrong, no gateway
//! runs here, several do, the process is not kepgate, or the signal is not ours to send.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `kepgate reload` says when the configuration it was to apply is wrong.
const NOT_SIGNALLED: &str =
    "the running gateway was not asked to reload: it keeps its configuration";

pub fn reload(pid: Option<u32>) -> ExitCode {
    let proc = Path::new("/proc");
    let found = match pid {
        Some(pid) => named_gateway(proc, pid),
        None => the_running_gateway(proc),
    };
    let gateway = match found.and_then(|pid| RunningGateway::read(proc, pid)) {
        Ok(gateway) => gateway,
        Err(why) => {
            eprintln!("kepgate: cannot reload: {why}");
            return ExitCode::FAILURE;
        }
    };
    match gateway.check_configuration() {
        Ok(()) => {}
        Err(CheckFailed::Refused(said)) => {
            eprint!("{said}");
            eprintln!("{NOT_SIGNALLED}");
            return ExitCode::from(2);
        }
        Err(CheckFailed::NotRun(why)) => {
            eprintln!("kepgate: cannot check the configuration: {why}\n{NOT_SIGNALLED}");
            return ExitCode::FAILURE;
        }
    }
    match send_hangup(gateway.pid) {
        Ok(()) => {
            println!(
                "the configuration of kepgate serve (pid {}) checks out; asked it to reload. Its \
                 log says what it applied, and kepgate_config_reloads_total counts each outcome",
                gateway.pid
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("kepgate: cannot reload pid {}: {why}", gateway.pid);
            ExitCode::FAILURE
        }
    }
}

/// A `kepgate serve` process, as the configuration check needs it.
struct RunningGateway {
    pid: u32,
    args: Vec<String>,
    environment: Vec<(OsString, OsString)>,
    directory: PathBuf,
}

enum CheckFailed {
    /// The configuration is wrong: what `check-config` said.
    Refused(String),
    NotRun(String),
}

impl RunningGateway {
    fn read(proc: &Path, pid: u32) -> Result<Self, String> {
        let at = proc.join(pid.to_string());
        let not_readable = |what: &str, e: std::io::Error| {
            format!(
                "cannot read the {what} of pid {pid} ({e}): run `kepgate reload` as the gateway's \
                 user or as root"
            )
        };
        let environ =
            std::fs::read(at.join("environ")).map_err(|e| not_readable("environment", e))?;
        let directory =
            std::fs::read_link(at.join("cwd")).map_err(|e| not_readable("working directory", e))?;
        Ok(RunningGateway {
            pid,
            args: process_arguments(proc, pid).unwrap_or_default(),
            environment: environ
                .split(|b| *b == 0)
                .filter_map(|pair| {
                    let at = pair.iter().position(|b| *b == b'=')?;
                    Some((
                        OsString::from_vec(pair[..at].to_vec()),
                        OsString::from_vec(pair[at + 1..].to_vec()),
                    ))
                })
                .collect(),
            directory,
        })
    }

    /// `kepgate check-config` with the gateway's file, environment and working directory.
    fn check_configuration(&self) -> Result<(), CheckFailed> {
        let me = std::env::current_exe().map_err(|e| CheckFailed::NotRun(e.to_string()))?;
        let mut check = std::process::Command::new(me);
        check
            .env_clear()
            .envs(self.environment.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.directory);
        if let Some(file) = config_argument(&self.args) {
            check.arg("--config").arg(file);
        }
        let output = check
            .arg("check-config")
            .output()
            .map_err(|e| CheckFailed::NotRun(e.to_string()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(CheckFailed::Refused(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ))
        }
    }
}

/// The `--config FILE` (or `--config=FILE`) the gateway was started with.
fn config_argument(args: &[String]) -> Option<&str> {
    args.iter().enumerate().find_map(|(i, arg)| {
        if arg == "--config" {
            args.get(i + 1).map(String::as_str)
        } else {
            arg.strip_prefix("--config=")
        }
    })
}

/// The one `kepgate serve` running on this machine (other than this process).
fn the_running_gateway(proc: &Path) -> Result<u32, String> {
    let found = serving_gateways(proc, std::process::id());
    match found.as_slice() {
        [pid] => Ok(*pid),
        [] => Err(
            "no `kepgate serve` runs on this machine (under systemd: `systemctl reload \
                   kepgate`; in a container: run `kepgate reload` inside it)"
                .to_owned(),
        ),
        several => Err(format!(
            "several `kepgate serve` run here (pids {}): name one with --pid",
            several
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `pid` if it is a `kepgate serve`: a reload signal must not end some other program.
fn named_gateway(proc: &Path, pid: u32) -> Result<u32, String> {
    let Some(args) = process_arguments(proc, pid) else {
        return Err(format!("no process has pid {pid}"));
    };
    if !is_serve_command(&args) {
        return Err(format!(
            "pid {pid} is not `kepgate serve` (it runs `{}`)",
            args.join(" ")
        ));
    }
    runs_kepgate(proc, pid)?;
    Ok(pid)
}

/// The pids of `/proc` running kepgate's program with the command `serve`, but `own`.
fn serving_gateways(proc: &Path, own: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid| *pid != own)
        .filter(|pid| process_arguments(proc, *pid).is_some_and(|args| is_serve_command(&args)))
        .filter(|pid| runs_kepgate(proc, *pid).is_ok())
        .collect();
    pids.sort_unstable();
    pids
}

fn process_arguments(proc: &Path, pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(proc.join(pid.to_string()).join("cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect(),
    )
}

/// The command line says `kepgate … serve`.
fn is_serve_command(args: &[String]) -> bool {
    let Some((program, rest)) = args.split_first() else {
        return false;
    };
    Path::new(program)
        .file_name()
        .is_some_and(|name| name == "kepgate")
        && rest.iter().any(|arg| arg == "serve")
}

/// The command line is the process's to write: anyone can name a shell `kepgate serve`. The
/// program it runs is not: this very program, or a file named kepgate (an older build the
/// package has replaced since the gateway started shows as `kepgate (deleted)`).
fn runs_kepgate(proc: &Path, pid: u32) -> Result<(), String> {
    let exe = proc.join(pid.to_string()).join("exe");
    let target = std::fs::read_link(&exe).map_err(|e| {
        format!(
            "cannot tell which program pid {pid} runs ({e}): run `kepgate reload` as the \
             gateway's user or as root"
        )
    })?;
    let same_file = match (std::fs::metadata(&exe), std::fs::metadata("/proc/self/exe")) {
        (Ok(theirs), Ok(mine)) => theirs.dev() == mine.dev() && theirs.ino() == mine.ino(),
        _ => false,
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
    let named_kepgate = matches!(name.as_deref(), Some("kepgate" | "kepgate (deleted)"));
    if same_file || named_kepgate {
        Ok(())
    } else {
        Err(format!(
            "pid {pid} calls itself `kepgate serve` but runs {}",
            target.display()
        ))
    }
}

/// `kill -HUP`: the program the service manager's reload runs too (the crate forbids the
/// unsafe a direct kill(2) would need).
fn send_hangup(pid: u32) -> Result<(), String> {
    let output = std::process::Command::new("kill")
        .args(["-s", "HUP", &pid.to_string()])
        .output()
        .map_err(|e| format!("cannot run kill: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    Err(if said.contains("ermitted") {
        "not permitted: run it as the gateway's user or as root".to_owned()
    } else {
        said.trim().to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn only_kepgate_serve_is_a_command_line_to_signal() {
        assert!(is_serve_command(&args("/usr/bin/kepgate serve")));
        assert!(is_serve_command(&args(
            "kepgate --config /etc/kepgate/kepgate.toml serve"
        )));
        assert!(!is_serve_command(&args("/usr/bin/kepgate reload")));
        assert!(!is_serve_command(&args("/usr/bin/kepgate-emulator serve")));
        assert!(!is_serve_command(&args("/usr/bin/python3 serve")));
        assert!(!is_serve_command(&[]));
    }

    #[test]
    fn the_gateways_own_configuration_file_is_the_one_checked() {
        assert_eq!(
            config_argument(&args("kepgate --config /etc/k.toml serve")),
            Some("/etc/k.toml")
        );
        assert_eq!(
            config_argument(&args("kepgate serve --config=/etc/k.toml")),
            Some("/etc/k.toml")
        );
        assert_eq!(config_argument(&args("kepgate serve")), None);
    }
}
