//! The providers' replacement tables (`src/clouds/*/forcenew.json`) are data read from the
//! provider source; these tests check the data is usable: it names where each entry came
//! from, and it covers every argument fleetform emits for every resource type, in every
//! example (the cloud matrices check their combinations the same way).

mod common;

use fleetform::clouds;

#[test]
fn every_emitted_argument_of_every_example_is_in_a_table() {
    let mut missing = Vec::new();
    for (name, spec) in common::examples() {
        let rendered = common::build_file(&spec);
        for gap in common::uncovered_arguments(&rendered) {
            missing.push(format!("{name}: {gap}"));
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "{} argument(s) have no replacement rule:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn every_entry_names_its_source_file_and_commit() {
    for table in [
        clouds::aws::lifecycle::replacement_rules(),
        clouds::azure::lifecycle::replacement_rules(),
    ] {
        assert!(
            table
                .repository
                .starts_with("https://github.com/hashicorp/")
        );
        for (ty, rules) in &table.resources {
            assert!(rules.file.ends_with(".go"), "{ty}: {}", rules.file);
            let commit = rules.commit.as_ref().or(table.commit.as_ref());
            assert!(
                commit.is_some_and(|c| c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit())),
                "{ty} names no commit"
            );
            for p in rules.replace.iter().chain(&rules.update) {
                assert!(
                    !(rules.replace.contains(p) && rules.update.contains(p)),
                    "{ty}: `{p}` is both replace and update"
                );
            }
        }
    }
}
