//! The committed JSON Schema is what the spec types derive; regenerate it with
//! `cargo run -- schema > schemas/fleet.schema.json` (or `FLEETFORM_BLESS=1 cargo test`).

#[test]
fn committed_schema_is_fresh() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(fleetform::spec::schema::SCHEMA_PATH);
    let fresh = fleetform::spec::schema::json_schema_text();
    if std::env::var_os("FLEETFORM_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "schemas/fleet.schema.json is stale: run `cargo run -- schema > schemas/fleet.schema.json`"
    );
}

#[test]
fn schema_is_a_valid_json_schema_with_help_for_editors() {
    let schema = fleetform::spec::schema::json_schema();
    assert!(jsonschema::meta::is_valid(&schema));
    let defs = schema["$defs"].as_object().unwrap();
    // Every property of every object carries a description, so editors show help.
    for (name, def) in defs {
        if let Some(props) = def.get("properties").and_then(|p| p.as_object()) {
            for (key, prop) in props {
                assert!(
                    prop.get("description").is_some(),
                    "{name}.{key} has no description"
                );
            }
        }
    }
    assert!(schema.to_string().contains("\"examples\""));
}
