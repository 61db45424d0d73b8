//! The service crate's shape, checked: capabilities stand on `shared/` and never on
//! each other, and `shared/` names no capability. A `use crate::orgs` in `accounts.rs`
//! fails here, so what two capabilities share has to move down into `shared/`.

use std::path::Path;

const CAPABILITIES: &[&str] = &[
    "access",
    "accounts",
    "assistants",
    "admin",
    "configuration",
    "hierarchy",
    "invitations",
    "mail",
    "me",
    "orgs",
    "portability",
    "service_keys",
    "system",
];

fn source(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every way one module can reach another by path inside this crate.
fn names(src: &str, module: &str) -> bool {
    [
        format!("crate::{module}::"),
        format!("crate::{module};"),
        format!("crate::{{{module}"),
        format!("super::{module}"),
    ]
    .iter()
    .any(|p| src.contains(p.as_str()))
}

#[test]
fn capabilities_do_not_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for cap in CAPABILITIES {
        let file = src.join(format!("{cap}.rs"));
        let text = source(&file);
        for other in CAPABILITIES.iter().filter(|o| *o != cap) {
            assert!(
                !names(&text, other),
                "{cap}.rs reaches the {other} capability; move what they share into shared/"
            );
        }
    }
}

#[test]
fn shared_parts_import_no_capability() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/shared");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = source(&path);
        seen += 1;
        for cap in CAPABILITIES {
            assert!(
                !names(&text, cap),
                "{} reaches the {cap} capability",
                path.display()
            );
        }
    }
    assert!(seen >= 5, "the shared parts were found");
}

#[test]
fn every_capability_file_is_listed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.is_file() && !["lib", "error"].contains(&name) {
            assert!(
                CAPABILITIES.contains(&name),
                "src/{name}.rs is neither a capability nor lib/error: list it here or move it into shared/"
            );
        }
    }
}
