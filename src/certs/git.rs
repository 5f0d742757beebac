//! Private keys and git: one `git add .` must not publish a key.
//!
//! Key folders usually sit inside a repository (`certs/` next to the fleet spec). Two rules
//! keep keys out of it: every output folder that receives a private key gets a `.gitignore`
//! ignoring `*.key` (and the kit's temporary files), written before the first key, or that
//! rule appended to a `.gitignore` already there; and a key is never written to a path git
//! already tracks, because `.gitignore` does not apply to tracked files and the next
//! `git commit -a` would publish it (unless `--force`).
//!
//! Git is asked (`git ls-files`), not imitated: where git is missing or the folder is not in
//! a work tree, nothing is tracked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The name of the ignore file.
pub const GITIGNORE: &str = ".gitignore";

/// The rule that ignores keys; a `.gitignore` holding this line (or `*`) is left alone.
const KEY_RULE: &str = "*.key";

/// What fleetform writes into a `.gitignore`.
pub const IGNORE_BLOCK: &str =
    "# Written by `fleetform certs`: private keys stay out of git.\n*.key\n.*.fleetform-*\n";

/// The new contents of `<root>/.gitignore`, given its current contents (`None`: missing), or
/// `None` when it already ignores keys.
pub fn ignore_file(current: Option<&str>) -> Option<String> {
    match current {
        None => Some(IGNORE_BLOCK.to_owned()),
        Some(text)
            if text
                .lines()
                .map(str::trim)
                .any(|l| l == KEY_RULE || l == "*") =>
        {
            None
        }
        Some(text) => {
            let mut out = text.to_owned();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(IGNORE_BLOCK);
            Some(out)
        }
    }
}

/// [`ignore_file`] for a folder that also holds keys under another name (the certificate
/// archive `devices.tar`): the new contents of its `.gitignore`, ignoring keys and `name`, or
/// `None` when it already ignores both.
pub fn ignore_file_with(current: Option<&str>, name: &str) -> Option<String> {
    let with_keys = ignore_file(current);
    let text = with_keys.as_deref().or(current).unwrap_or_default();
    if text.lines().map(str::trim).any(|l| l == name || l == "*") {
        return with_keys;
    }
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(name);
    out.push('\n');
    Some(out)
}

/// Which of `rels` (relative to `root`) git tracks. Empty when `root` does not exist, is not
/// inside a work tree, or git is not installed.
pub fn tracked(root: &Path, rels: &[&Path]) -> Vec<PathBuf> {
    if rels.is_empty() || !root.is_dir() {
        return Vec::new();
    }
    let dir = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        root
    };
    // Paths come out relative to `dir`, NUL-separated so no name can be misread.
    let Ok(out) = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["ls-files", "-z", "--", "."])
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    let listed: BTreeSet<PathBuf> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| PathBuf::from(String::from_utf8_lossy(s).into_owned()))
        .collect();
    rels.iter()
        .filter(|r| listed.contains(**r))
        .map(|r| r.to_path_buf())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_rules_are_added_once() {
        assert_eq!(ignore_file(None).unwrap(), IGNORE_BLOCK);
        assert_eq!(ignore_file(Some("*.key\n")), None);
        assert_eq!(ignore_file(Some("  *\n")), None);
        assert_eq!(
            ignore_file(Some("notes.txt")).unwrap(),
            format!("notes.txt\n\n{IGNORE_BLOCK}")
        );
        assert_eq!(ignore_file(Some("")).unwrap(), IGNORE_BLOCK);
        let extended = ignore_file(Some("notes.txt\n")).unwrap();
        assert_eq!(ignore_file(Some(&extended)), None);
    }

    #[test]
    fn an_archive_of_keys_is_ignored_too() {
        let fresh = ignore_file_with(None, "devices.tar").unwrap();
        assert_eq!(fresh, format!("{IGNORE_BLOCK}devices.tar\n"));
        assert_eq!(ignore_file_with(Some(&fresh), "devices.tar"), None);
        assert_eq!(ignore_file_with(Some("*\n"), "devices.tar"), None);
        // Keys already ignored: only the archive is added.
        assert_eq!(
            ignore_file_with(Some("*.key"), "devices.tar").unwrap(),
            "*.key\ndevices.tar\n"
        );
    }
}
