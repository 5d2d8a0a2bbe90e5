//! Ending what the tests start. A child is killed and reaped; what a child starts in turn is
//! found in /proc (by process group, or by a folder of the test's own in its command line) and
//! killed too, so scripts/test.sh finds nothing left after the suite.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running process, as /proc shows it.
pub struct Process {
    pub pid: u32,
    /// Its process group.
    pub group: u32,
    /// The command line, arguments separated by spaces.
    pub cmdline: String,
}

/// Every running process (zombies left out: they are gone but for their exit status).
pub fn running() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) state ppid pgrp …`; the name may hold spaces and parentheses.
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
            let state = fields.next()?;
            let group = fields.nth(1)?.parse().ok()?;
            if state == "Z" {
                return None;
            }
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            Some(Process {
                pid,
                group,
                cmdline,
            })
        })
        .collect()
}

/// SIGKILLs every process `matching` picks and waits (at most 10 s) until none is left. For
/// `Drop`: reports instead of panicking (a panic while unwinding would abort the whole run).
pub fn end_all(what: &str, matching: impl Fn(&Process) -> bool) {
    let own = std::process::id();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<String> = running()
            .into_iter()
            .filter(|p| p.pid != own && matching(p))
            .map(|p| p.pid.to_string())
            .collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("{what}: processes {left:?} did not end");
            return;
        }
        let _ = Command::new("kill").arg("-KILL").args(&left).status();
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process that is killed and reaped when dropped, so that a failed assertion between
/// its start and its planned end leaves nothing running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
