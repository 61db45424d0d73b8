//! Finding a sibling executable (`orgbase bench` runs `orgbase-bench`, which runs
//! `orgbase serve`).

use std::path::PathBuf;

/// The executable `name` beside the running one (where cargo builds all of them), else
/// the first on `PATH`.
pub fn find(name: &str) -> Option<PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|me| Some(me.parent()?.join(&file)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(&file));
    beside.into_iter().chain(on_path).find(|p| p.is_file())
}
