//! Deterministic zip packages for function code.
//!
//! Lambda and Functions deploy zip files, and Terraform notices code changes through a hash
//! of the zip (`source_code_hash`). A zip with timestamps or filesystem order in it changes
//! on every build and makes every plan show a diff. fleetform writes its packages itself,
//! with sorted entries, a fixed 1980-01-01 timestamp and fixed permissions, so the same
//! code gives the same bytes on every machine.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::PlanError;

/// Zips `files` (path, content) deterministically.
pub fn zip(name: &str, files: &[(&str, &str)]) -> Result<Vec<u8>, PlanError> {
    let fail = |e: &dyn std::fmt::Display| PlanError::Package {
        name: name.to_owned(),
        message: e.to_string(),
    };
    let mut sorted: Vec<&(&str, &str)> = files.iter().collect();
    sorted.sort_by_key(|(path, _)| *path);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (path, content) in sorted {
        writer.start_file(*path, options).map_err(|e| fail(&e))?;
        writer.write_all(content.as_bytes()).map_err(|e| fail(&e))?;
    }
    Ok(writer.finish().map_err(|e| fail(&e))?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_bytes_whatever_the_order() {
        let a = zip("f", &[("b.py", "print(1)\n"), ("a.py", "x = 2\n")]).unwrap();
        let b = zip("f", &[("a.py", "x = 2\n"), ("b.py", "print(1)\n")]).unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[..2], b"PK");
    }
}
