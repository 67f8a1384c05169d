//! schema.graphql at the repository root is what the code generates (`taizhang schema`).

#[test]
fn schema_graphql_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let generated = api::sdl();
    if checked_in != generated {
        if std::env::var_os("SCHEMA_BLESS").is_some() {
            std::fs::write(path, generated).expect("write schema.graphql");
            return;
        }
        panic!(
            "schema.graphql is stale: regenerate it with `cargo run -p taizhang -- schema --output schema.graphql` \
             (or SCHEMA_BLESS=1 cargo test -p api --test schema_file)"
        );
    }
}

#[test]
fn every_type_field_and_argument_is_described_in_both_languages() {
    let sdl = api::sdl();
    // Every description carries Chinese: at least one CJK character.
    let has_cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let mut missing = Vec::new();
    let mut previous_was_description = false;
    let mut description = String::new();
    let mut in_description = false;
    let mut in_schema_block = false;
    for line in sdl.lines() {
        let t = line.trim();
        // The `schema { query: Query … }` block names the roots; it has nothing to describe.
        if t.starts_with("schema") {
            in_schema_block = true;
        }
        if in_schema_block {
            in_schema_block = t != "}";
            continue;
        }
        if t == "\"\"\"" || (t.starts_with("\"\"\"") && !t.ends_with("\"\"\"")) {
            in_description = !in_description;
            if in_description {
                description.clear();
            } else {
                previous_was_description = true;
            }
            continue;
        }
        if in_description {
            description.push_str(t);
            continue;
        }
        if t.starts_with("\"\"\"") && t.ends_with("\"\"\"") && t.len() > 6 {
            description = t.to_owned();
            previous_was_description = true;
            continue;
        }
        let declares = t.starts_with("type ")
            || t.starts_with("input ")
            || t.starts_with("enum ")
            || t.starts_with("interface ")
            || (t.contains(':') && !t.starts_with('#') && !t.starts_with("schema"));
        let builtin = t.starts_with("schema")
            || t.starts_with("directive")
            || t.starts_with('#')
            || t.starts_with(')');
        if declares && !builtin && !(previous_was_description && has_cjk(&description)) {
            missing.push(t.to_owned());
        }
        previous_was_description = false;
    }
    assert!(
        missing.is_empty(),
        "undescribed (or no Chinese): {missing:#?}"
    );
}
