//! The published contract: one golden JSON file per event type, `golden/<Type>.v<N>.json`.
//!
//! - every event type has a golden file at its current version;
//! - the canonical sample built in code serializes to exactly that file, so changing an event's
//!   shape without bumping its schema version (and adding an upcaster) fails here;
//! - every golden file, current or old, still decodes (old ones through the upcaster), and a
//!   current one re-serializes to itself.
//!
//! After a deliberate change with a version bump, write the new files with
//! `GOLDEN_BLESS=1 cargo test -p domain --test golden` and review the diff.

mod support;

use domain::AnyEvent;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The exact text of a golden file: pretty JSON with sorted keys and a final newline.
fn canonical_text(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text
}

fn current_version(event_type: &str) -> Option<u32> {
    AnyEvent::types()
        .into_iter()
        .find(|(t, _)| *t == event_type)
        .map(|(_, v)| v)
}

fn golden_files() -> BTreeMap<(String, u32), String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(golden_dir()).expect("golden dir exists") {
        let path = entry.expect("readable dir").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_owned();
        let stem = name
            .strip_suffix(".json")
            .unwrap_or_else(|| panic!("{name}: not a .json file"));
        let (event_type, version) = stem
            .rsplit_once(".v")
            .unwrap_or_else(|| panic!("{name}: not <Type>.v<N>.json"));
        let version: u32 = version
            .parse()
            .unwrap_or_else(|_| panic!("{name}: version is not a number"));
        files.insert(
            (event_type.to_owned(), version),
            std::fs::read_to_string(&path).expect("readable file"),
        );
    }
    files
}

#[test]
fn samples_cover_every_event_type_once() {
    let mut sampled: Vec<&str> = support::all_samples()
        .iter()
        .map(AnyEvent::event_type)
        .collect();
    sampled.sort_unstable();
    let mut types: Vec<&str> = AnyEvent::types().into_iter().map(|(t, _)| t).collect();
    types.sort_unstable();
    assert_eq!(
        sampled, types,
        "add a sample to tests/support/mod.rs for every new event type"
    );
}

#[test]
fn canonical_samples_match_their_golden_files() {
    let bless = std::env::var_os("GOLDEN_BLESS").is_some();
    let files = golden_files();
    let mut failures = Vec::new();
    for sample in support::all_samples() {
        let event_type = sample.event_type();
        let version = current_version(event_type).expect("sampled types are known");
        let text = canonical_text(&sample.to_json());
        let path = golden_dir().join(format!("{event_type}.v{version}.json"));
        if bless {
            std::fs::write(&path, &text).expect("writable golden dir");
            continue;
        }
        match files.get(&(event_type.to_owned(), version)) {
            None => failures.push(format!("{event_type}: no golden file {}", path.display())),
            Some(golden) if *golden != text => failures.push(format!(
                "{event_type} v{version}: the shape changed. Published events never change shape \
                 silently: bump its schema version, add an upcaster from v{version}, keep the old \
                 file and add the new one.\n--- golden\n{golden}+++ now\n{text}"
            )),
            Some(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_file_decodes_and_current_ones_round_trip() {
    for ((event_type, version), text) in golden_files() {
        let current = current_version(&event_type)
            .unwrap_or_else(|| panic!("{event_type}: unknown event type"));
        let value: serde_json::Value = serde_json::from_str(&text).expect("golden files are JSON");
        let upcast = AnyEvent::upcast(&event_type, version, value.clone())
            .unwrap_or_else(|e| panic!("{event_type} v{version} no longer upcasts: {e}"));
        assert!(
            version < current || upcast == value,
            "{event_type}: upcasting the current version changed it"
        );
        let event = AnyEvent::from_json(&event_type, version, value.clone())
            .unwrap_or_else(|e| panic!("{event_type} v{version} no longer decodes: {e}"));
        assert_eq!(event.event_type(), event_type);
        if version == current {
            assert_eq!(event.to_json(), value, "{event_type}: semantic round trip");
            assert_eq!(
                canonical_text(&event.to_json()),
                text,
                "{event_type}: byte round trip"
            );
        }
    }
}

/// Old golden files are kept when a version is bumped, so the upcaster of every old shape stays
/// tested by `every_golden_file_decodes_and_current_ones_round_trip`.
#[test]
fn every_version_of_every_type_keeps_its_golden_file() {
    let files = golden_files();
    for (event_type, current) in AnyEvent::types() {
        for version in 1..=current {
            assert!(
                files.contains_key(&(event_type.to_owned(), version)),
                "{event_type}: golden/{event_type}.v{version}.json is missing"
            );
        }
    }
    for (event_type, version) in files.keys() {
        let current = current_version(event_type)
            .unwrap_or_else(|| panic!("{event_type}: a golden file of no event type"));
        assert!(
            *version <= current,
            "{event_type}.v{version}.json is newer than the code (v{current})"
        );
    }
}

#[test]
fn unknown_types_and_future_versions_are_refused() {
    assert!(AnyEvent::from_json("NoSuchEvent", 1, serde_json::json!({})).is_err());
    let (event_type, version) = AnyEvent::types()[0];
    assert!(AnyEvent::from_json(event_type, version + 1, serde_json::json!({})).is_err());
}

#[test]
fn invalid_data_does_not_decode() {
    // Validation runs on reading too: a negative amount never becomes an event.
    let mut value = support::all_samples()[0].to_json();
    value["intended_investment"] = serde_json::json!(-1);
    assert!(AnyEvent::from_json("ProjectRegistered", 1, value).is_err());
}
