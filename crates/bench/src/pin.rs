//! Server and load on separate cores.
//!
//! On a small machine the load generator and the server compete for the same cores, so
//! neither figure means much. By default the benchmark pins the server (and the floor)
//! to the first CPU this process may use and itself and its load generator to the
//! second, with util-linux's `taskset` (no unsafe code here). With one CPU, or without
//! `taskset`, or with `--no-pin`, nothing is pinned and the report says so.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// Which CPU serves and which CPU loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cores {
    pub server: usize,
    pub load: usize,
}

/// The CPUs this process may run on (`Cpus_allowed_list` of `/proc/self/status`).
pub fn allowed() -> Vec<usize> {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|v| parse_list(v.trim()))
        })
        .unwrap_or_default()
}

/// `0-1,4,6-7` → [0, 1, 4, 6, 7]; malformed parts are skipped.
pub fn parse_list(list: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<usize>().ok()),
        }
    }
    out
}

/// The two cores to use, or `None` (with the reason) when pinning is off or impossible.
pub fn choose(wanted: bool) -> Result<Cores, &'static str> {
    if !wanted {
        return Err("--no-pin");
    }
    if crate::exe_on_path("taskset").is_none() {
        return Err("no taskset on PATH (util-linux)");
    }
    match allowed()[..] {
        [server, load, ..] => Ok(Cores { server, load }),
        _ => Err("fewer than two CPUs available"),
    }
}

/// Pins every thread of this process (the load generator's included; threads made
/// later inherit it) to `cpu`.
pub fn pin_self(cpu: usize) -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &cpu.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .context("running taskset")?;
    if !status.success() {
        bail!("taskset could not pin the benchmark to CPU {cpu}");
    }
    Ok(())
}

/// `exe` to be started on `cpu` (through `taskset`, which execs it: the child's pid is
/// the program's), or as is.
pub fn command(cpu: Option<usize>, exe: &Path) -> Command {
    match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(exe);
            c
        }
        None => Command::new(exe),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_list("0-1"), vec![0, 1]);
        assert_eq!(parse_list("0,2-3, 7"), vec![0, 2, 3, 7]);
        assert_eq!(parse_list("x,3"), vec![3]);
        assert!(parse_list("").is_empty());
    }
}
