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

/// A schema linter's rule, run on the introspection result as a client tool sees it: no scalar
/// of ours (every scalar beyond GraphQL's five) without a description, and each says in both languages what
/// they hold and how they are written on the wire (a JSON string or number), and those with a
/// published specification point to it with `@specifiedBy`.
#[tokio::test]
async fn every_scalar_is_described_with_its_wire_form() {
    let answer = api::schema::offline()
        .execute("{ __schema { types { kind name description specifiedByURL } } }")
        .await;
    assert!(answer.errors.is_empty(), "{:?}", answer.errors);
    let data = answer.data.into_json().expect("JSON");
    let has_cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut ours = std::collections::BTreeMap::new();
    for t in data["__schema"]["types"].as_array().expect("types") {
        if t["kind"] != "SCALAR" {
            continue;
        }
        let name = t["name"].as_str().expect("name");
        // GraphQL's own five are the specification's (async-graphql leaves ID undescribed).
        if builtin.contains(&name) {
            continue;
        }
        let description = t["description"].as_str().unwrap_or_default();
        assert!(
            !description.trim().is_empty(),
            "scalar {name} has no description"
        );
        assert!(
            has_cjk(description),
            "scalar {name}: no Chinese in {description:?}"
        );
        assert!(
            description.contains("on the wire a JSON") || description.contains("as is on the wire"),
            "scalar {name} does not say its wire form: {description:?}"
        );
        ours.insert(
            name.to_owned(),
            t["specifiedByURL"].as_str().map(str::to_owned),
        );
    }
    let names: Vec<&str> = ours.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "Date", "DateTime", "Decimal", "JSON", "Mu", "Period", "Wan", "Yuan"
        ]
    );
    assert_eq!(
        ours["DateTime"].as_deref(),
        Some("https://scalars.graphql.org/andimarek/date-time.html")
    );
    assert_eq!(
        ours["Date"].as_deref(),
        Some("https://www.rfc-editor.org/rfc/rfc3339#section-5.6")
    );
    // Strings and integers: what a client must know before it parses an amount.
    let sdl = api::sdl();
    for (scalar, wire) in [
        ("Yuan", "JSON integer"),
        ("Mu", "JSON string"),
        ("Decimal", "JSON string"),
    ] {
        let at = sdl.find(&format!("scalar {scalar}")).expect("declared");
        // Its description is the block just above the declaration.
        let mut start = at.saturating_sub(600);
        while !sdl.is_char_boundary(start) {
            start -= 1;
        }
        let before = &sdl[start..at];
        assert!(
            before.contains(wire),
            "scalar {scalar} should say {wire}: {before}"
        );
    }
}

/// docs/vocabulary.md is the one table of codes: every value of each enum it lists is in it with
/// its GraphQL spelling, and nothing else is.
#[test]
fn the_vocabulary_table_matches_the_schema() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/vocabulary.md"
    ))
    .expect("docs/vocabulary.md");
    let mut documented: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains('`'))
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (kind, graphql) = (cells[1], cells[3]);
        let graphql = graphql
            .split('`')
            .nth(1)
            .expect("a GraphQL value in backticks");
        // project_kind → ProjectKind; `status` is the project's.
        let name = if kind == "status" {
            "ProjectStatus".to_owned()
        } else {
            kind.split('_')
                .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
                .collect()
        };
        documented.entry(name).or_default().push(graphql.to_owned());
    }
    assert!(documented.len() >= 15, "{documented:?}");
    let sdl = api::sdl();
    for (name, values) in &documented {
        let start = sdl.find(&format!("enum {name} {{")).unwrap_or_else(|| {
            panic!("docs/vocabulary.md lists {name}, the schema has no such enum")
        });
        let block = &sdl[start..start + sdl[start..].find('}').expect("enum ends")];
        let in_schema: Vec<String> = block
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .map(str::to_owned)
            .collect();
        assert_eq!(
            &in_schema, values,
            "enum {name}: schema vs docs/vocabulary.md"
        );
    }
}
