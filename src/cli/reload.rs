//! `kepgate reload`: tries the configuration the way the running gateway will read it, and only
//! if it would be applied, asks the running `kepgate serve` to reload (SIGHUP, as
//! `systemctl reload` does). It says why not when it cannot: the configuration is wrong, no
//! gateway runs here, several do, or the signal is not ours to send.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::app::OfflineParts;
use crate::clock::SystemClock;
use crate::config::Settings;

/// What `kepgate reload` says when the configuration it was to apply is wrong.
pub const NOT_SIGNALLED: &str =
    "the running gateway was not asked to reload: it keeps its configuration";

pub fn reload(settings: &Settings, pid: Option<u32>) -> ExitCode {
    if let Err(e) = OfflineParts::load(settings, Arc::new(SystemClock)) {
        eprintln!("kepgate: configuration error:\n{e:#}\n{NOT_SIGNALLED}");
        return ExitCode::from(2);
    }
    let pid = match pid.map_or_else(the_running_gateway, |pid| {
        named_gateway(Path::new("/proc"), pid)
    }) {
        Ok(pid) => pid,
        Err(why) => {
            eprintln!("kepgate: cannot reload: {why}");
            return ExitCode::FAILURE;
        }
    };
    match send_hangup(pid) {
        Ok(()) => {
            println!(
                "asked kepgate serve (pid {pid}) to reload; its log says what it applied, and \
                 kepgate_config_reloads_total counts each outcome"
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("kepgate: cannot reload pid {pid}: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The one `kepgate serve` running on this machine (other than this process).
fn the_running_gateway() -> Result<u32, String> {
    let found = serving_gateways(Path::new("/proc"), std::process::id());
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
    match process_arguments(proc, pid) {
        None => Err(format!("no process has pid {pid}")),
        Some(args) if is_gateway(&args) => Ok(pid),
        Some(args) => Err(format!(
            "pid {pid} is not `kepgate serve` (it runs `{}`)",
            args.join(" ")
        )),
    }
}

/// The pids of `/proc` whose command line is `kepgate … serve`, but `own`.
fn serving_gateways(proc: &Path, own: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid| *pid != own)
        .filter(|pid| process_arguments(proc, *pid).is_some_and(|args| is_gateway(&args)))
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

/// The program is kepgate (by its file name) and its command is `serve`.
fn is_gateway(args: &[String]) -> bool {
    let Some((program, rest)) = args.split_first() else {
        return false;
    };
    Path::new(program)
        .file_name()
        .is_some_and(|name| name == "kepgate")
        && rest.iter().any(|arg| arg == "serve")
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
    fn only_kepgate_serve_is_a_gateway_to_signal() {
        assert!(is_gateway(&args("/usr/bin/kepgate serve")));
        assert!(is_gateway(&args(
            "kepgate --config /etc/kepgate/kepgate.toml serve"
        )));
        assert!(!is_gateway(&args("/usr/bin/kepgate reload")));
        assert!(!is_gateway(&args("/usr/bin/kepgate-emulator serve")));
        assert!(!is_gateway(&args("/usr/bin/python3 serve")));
        assert!(!is_gateway(&[]));
    }
}
