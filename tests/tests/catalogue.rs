//! The bad-input catalogue in `docs/reliability.md` names a test for every row: each named test
//! must exist, so the catalogue cannot promise what nothing checks.

use std::path::Path;

/// The `path::test_name` references of the catalogue's rows.
fn references(catalogue: &str) -> Vec<(String, String)> {
    catalogue
        .lines()
        .filter(|line| line.starts_with("| ") && line.contains(".rs::"))
        .filter_map(|line| {
            let cell = line.trim_end_matches('|').rsplit('|').next()?.trim().trim_matches('`');
            let (path, name) = cell.rsplit_once("::")?;
            Some((path.to_owned(), name.to_owned()))
        })
        .collect()
}

#[test]
fn every_test_the_catalogue_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root");
    let catalogue = std::fs::read_to_string(root.join("docs/reliability.md")).unwrap();
    let rows = references(&catalogue);
    assert!(rows.len() >= 40, "the catalogue lists {} bad inputs, fewer than 40", rows.len());
    let mut missing = Vec::new();
    for (path, name) in &rows {
        let source = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        if !source.contains(&format!("fn {name}(")) {
            missing.push(format!("{path}::{name}"));
        }
    }
    assert!(missing.is_empty(), "the catalogue names tests that do not exist: {missing:?}");
}

#[test]
fn a_misspelt_reference_is_caught() {
    let catalogue = "| 1 | url | x | y | `crates/core/tests/bad_input.rs::no_such_test` |\n";
    let rows = references(catalogue);
    assert_eq!(rows, [("crates/core/tests/bad_input.rs".into(), "no_such_test".into())]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let source = std::fs::read_to_string(root.join(&rows[0].0)).unwrap();
    assert!(!source.contains("fn no_such_test("));
}
