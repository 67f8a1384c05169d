//! `canonical_json::jsonb_text` against PostgreSQL itself: for random JSON values, the Rust text
//! must equal `SELECT $1::jsonb::text` with the value bound the way the store binds it. The SQLite
//! backend stores and hashes this text, so any difference would break the hashes of events moved
//! to PostgreSQL. Needs a server (DATABASE_URL or the local one; see the README).

use std::cell::RefCell;

use eventstore::canonical_json::{JsonbTextError, jsonb_text};
use eventstore::postgres::testing::admin_connection;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Number, Value, json};
use sqlx::PgConnection;

/// Characters that exercise escaping: quotes, backslashes, every named escape, other control
/// characters, DEL, slash, non-ASCII of every UTF-8 length; and any character at all (but U+0000,
/// which jsonb refuses and is tested on its own).
fn text() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '"', '\\', '/', '\u{8}', '\u{c}', '\n', '\r', '\t', '\u{1}', '\u{1f}', '\u{7f}', 'é', '中',
        '😀', ' ', 'a', 'Z', '0',
    ]);
    let any_char = any::<char>().prop_map(|c| if c == '\0' { '\u{2}' } else { c });
    prop::collection::vec(prop_oneof![3 => special, 1 => any_char], 0..10)
        .prop_map(|chars| chars.into_iter().collect())
}

/// Numbers as serde_json holds them: any i64 or u64, and finite floats of every magnitude
/// (shortest round-trip text with and without exponent, subnormals, negative zero).
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        (-999_999i64..999_999, -30i32..30).prop_map(|(m, e)| Value::from(m as f64 * 10f64.powi(e))),
        prop::sample::select(vec![
            0.0,
            -0.0,
            0.1,
            1.5e-7,
            1e16,
            1e21,
            2.5e-300,
            5e-324,
            f64::MAX
        ])
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

async fn pg_text(conn: &mut PgConnection, value: &Value) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT $1::jsonb::text")
        .bind(value)
        .fetch_one(conn)
        .await
}

#[test]
fn jsonb_text_matches_postgres_for_random_values() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn: RefCell<PgConnection> = RefCell::new(rt.block_on(admin_connection()));
    let mut runner = TestRunner::new(Config {
        cases: 3000,
        ..Config::default()
    });
    let result = runner.run(&json_value(), |value| {
        let pg = rt
            .block_on(pg_text(&mut conn.borrow_mut(), &value))
            .map_err(|e| TestCaseError::fail(format!("PostgreSQL refused {value}: {e}")))?;
        prop_assert_eq!(jsonb_text(&value).unwrap(), pg, "value {}", value);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[tokio::test]
async fn jsonb_text_matches_postgres_for_known_hard_cases() {
    let mut conn = admin_connection().await;
    let mut object = Map::new();
    for key in ["bb", "a", "ab", "", "é", "z", "aa", "\u{7f}", "B"] {
        object.insert(key.to_owned(), json!(key.len()));
    }
    let cases = [
        Value::Object(object),
        json!({"a": {"b": [], "c": {}}, "list": [1, [2, [3, {}]]], "s": "\"\\/\u{8}\u{c}\n\r\t\u{1}"}),
        json!([
            u64::MAX,
            i64::MIN,
            0.5,
            -0.0,
            1e300,
            1.7976931348623157e308,
            123456789.125
        ]),
        Value::Number(Number::from_f64(f64::from_bits(1)).unwrap()),
        json!("中文 😀 \u{10ffff}"),
        json!({"metadata": {"actor": "张三", "correlationId": "00000000-0000-0000-0000-000000000000"}}),
    ];
    for value in cases {
        assert_eq!(
            jsonb_text(&value).unwrap(),
            pg_text(&mut conn, &value).await.unwrap(),
            "{value}"
        );
    }
}

/// jsonb cannot hold U+0000: PostgreSQL refuses it, and so does the Rust form (so a SQLite store
/// never accepts an event PostgreSQL could not import).
#[tokio::test]
async fn nul_is_refused_by_both() {
    let mut conn = admin_connection().await;
    for value in [json!("a\u{0}b"), json!({"k\u{0}": 1})] {
        assert!(pg_text(&mut conn, &value).await.is_err(), "{value}");
        assert_eq!(jsonb_text(&value), Err(JsonbTextError::NulCharacter));
    }
}
