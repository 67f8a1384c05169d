//! The test vectors of docs/ledger-format.md, checked against the code: the canonical JSON, the
//! event hash chain, the seal digest and hash, and a signed receipt. Each expected value must
//! also appear in the document, so the spec and the code cannot drift apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use eventstore::canonical_json::jsonb_text;
use eventstore::hash::{HashInput, RangeDigest, SealInput, ZERO_HASH, event_hash, seal_hash};
use eventstore::{Position, Seal};
use receipts::{Receipt, SealKey, signed_message};

const DOC: &str = include_str!("../../../docs/ledger-format.md");

const JSON_IN: &str = r#"{"note":"a\"b\\c\u0001\n\t","bb":2,"a":[1.50,-0.0,1.5e-7,1e3,true,null],"中":"中","a":{"z":{},"y":[]}}"#;
const JSON_OUT: &str =
    r#"{"a": {"y": [], "z": {}}, "bb": 2, "中": "中", "note": "a\"b\\c\u0001\n\t"}"#;

const ID_0: &str = "00000000-0000-4000-8000-000000000001";
const ID_1: &str = "00000000-0000-4000-8000-000000000002";
const RECORDED_0: i64 = 1_767_225_600_000_000;
const RECORDED_1: i64 = 1_767_225_600_123_456;
const DATA_0: &str = r#"{"name": "氟化工项目", "amount_yuan": 150000000}"#;
const DATA_1: &str = r#"{"period": "2026-01", "completed_yuan": 2500000}"#;
const META: &str = r#"{"actor": "clerk"}"#;

fn hex32(h: [u8; 32]) -> String {
    hex::encode(h)
}

fn vectors() -> Vec<(&'static str, String)> {
    let e0 = event_hash(
        &ZERO_HASH,
        &HashInput {
            id: ID_0.parse().unwrap(),
            stream: "project-1",
            version: 0,
            event_type: "ProjectRegistered",
            schema_version: 1,
            data: DATA_0,
            metadata: META,
            recorded_at_micros: RECORDED_0,
        },
    );
    let e1 = event_hash(
        &e0,
        &HashInput {
            id: ID_1.parse().unwrap(),
            stream: "project-1",
            version: 1,
            event_type: "InvestmentReported",
            schema_version: 1,
            data: DATA_1,
            metadata: META,
            recorded_at_micros: RECORDED_1,
        },
    );
    let mut digest = RangeDigest::default();
    digest.push(&e0);
    digest.push(&e1);
    let digest = digest.finish();
    let to = Position::new(2, 2);
    let s1 = seal_hash(
        &ZERO_HASH,
        &SealInput {
            seal_no: 1,
            from: Position::START,
            to,
            event_count: 2,
            digest: &digest,
        },
    );
    let seal = Seal {
        seal_no: 1,
        from: Position::START,
        to,
        event_count: 2,
        digest,
        prev_hash: ZERO_HASH,
        hash: s1,
        sealed_at: time::OffsetDateTime::from_unix_timestamp(1_767_225_660).unwrap(),
    };
    let key = SealKey::parse(
        &format!("taizhang-seal-key ed25519 {}", "01".repeat(32)),
        "vector",
    )
    .unwrap();
    let receipt = Receipt::of(&seal, Some(&key));
    assert!(receipt.verify_signature().unwrap().is_some());
    vec![
        ("event 0 hash", hex32(e0)),
        ("event 1 hash", hex32(e1)),
        ("seal 1 digest", hex32(digest)),
        ("seal 1 hash", hex32(s1)),
        (
            "receipt message",
            String::from_utf8(signed_message(&seal)).unwrap(),
        ),
        ("key id", receipt.key_id.clone().unwrap()),
        ("public key", receipt.public_key.clone().unwrap()),
        ("signature", receipt.signature.clone().unwrap()),
    ]
}

#[test]
fn canonical_json_vector() {
    let value: serde_json::Value = serde_json::from_str(JSON_IN).unwrap();
    assert_eq!(jsonb_text(&value).unwrap(), JSON_OUT);
    assert!(DOC.contains(JSON_IN), "the input is in the doc");
    assert!(DOC.contains(JSON_OUT), "the output is in the doc");
    for text in [DATA_0, DATA_1, META] {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            jsonb_text(&v).unwrap(),
            text,
            "inputs are canonical already"
        );
    }
}

#[test]
fn hash_seal_and_receipt_vectors_are_the_documented_ones() {
    let vectors = vectors();
    if std::env::var("PRINT_VECTORS").is_ok() {
        for (name, value) in &vectors {
            println!("{name}: {value}");
        }
    }
    for (name, value) in vectors {
        let needle = if name == "receipt message" {
            value.replace('\n', "␊")
        } else {
            value.clone()
        };
        assert!(
            DOC.contains(&needle),
            "docs/ledger-format.md lacks the {name} {needle:?}"
        );
    }
}
