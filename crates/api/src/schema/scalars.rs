//! Custom scalars. Money is the reason they exist: GraphQL's `Int` is 32-bit, far too small for
//! yuan, so money has its own scalar; the others keep the domain's exact text forms.

use async_graphql::{InputValueError, InputValueResult, Number, Scalar, ScalarType, Value};

use crate::error::ApiError;

/// Money in whole yuan (元), serialized as a JSON integer number (never a float, never a string).
/// Stored amounts are below 10¹³ yuan (rule 1) and sums stay far below 2⁵³, so JavaScript clients
/// read them exactly. Input: an integer number (a string of digits is accepted too); the range is
/// checked by the domain (`MONEY_OUT_OF_RANGE`). 金额（元，整数）
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(transparent)]
pub struct Yuan(pub i64);

/// Money in whole yuan (元), on the wire a JSON integer number: never a float, never a string in
/// answers; an input may also be a string of digits. Amounts stay below 10¹³ (rule 1) and sums far
/// below 2⁵³, so JavaScript reads them exactly (GraphQL's `Int` is 32-bit, too small). Displays
/// use 万元 (÷10⁴) and 亿元 (÷10⁸).
/// 金额，单位元，JSON 整数（不用小数、不用字符串；输入也可为数字字符串）。显示时换算为万元、亿元。
#[Scalar(name = "Yuan")]
impl ScalarType for Yuan {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n.as_i64().map(Yuan).ok_or_else(|| {
                InputValueError::custom("Yuan must be a whole number of yuan (元须为整数)")
            }),
            Value::String(s) => s.trim().parse::<i64>().map(Yuan).map_err(|_| {
                InputValueError::custom("Yuan must be a whole number of yuan (元须为整数)")
            }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    /// Checked in validation too, where the error can name the field (`explain.rs`); `parse`
    /// alone fails at execution, where async-graphql no longer says which field it was.
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        Value::Number(Number::from(self.0))
    }
}

impl Yuan {
    pub fn to_domain(self, field: &str) -> Result<domain::Yuan, ApiError> {
        domain::Yuan::new(self.0).map_err(|e| ApiError::value(field, e))
    }
}

/// Money typed in 万元 (10⁴ yuan), as an exact decimal **string** with at most 4 decimals, e.g.
/// `"123.45"` (= 1234500 yuan). A string, not a JSON number, because JSON numbers are read as
/// binary floats. Parsed by the domain's one reading of typed 万元 (`Yuan::parse_wan`): spaces,
/// full-width digits and thousands separators are tolerated; a fifth decimal is refused
/// (`MONEY_INVALID`), never rounded. An input-side alternative to `Yuan`. 金额（万元，最多 4 位小数）
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wan(pub String);

/// Money typed in 万元 (10⁴ yuan): on the wire a JSON **string** holding an exact decimal with at
/// most 4 decimals, e.g. `"123.45"` = 1,234,500 yuan (never a JSON number: those are binary
/// floats). Spaces, full-width digits and thousands separators are tolerated; a fifth decimal is
/// refused, never rounded. An input-side alternative to `Yuan`.
/// 金额，单位万元，JSON 字符串形式的精确小数，最多 4 位小数（例如 "123.45" 即 1234500 元）；不接受 JSON 数字。
#[Scalar(name = "Wan")]
impl ScalarType for Wan {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Wan(s)),
            Value::Number(_) => Err(InputValueError::custom(
                "Wan is a decimal string such as \"123.45\", not a number (万元须以字符串形式给出)",
            )),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// The one amount an input means when it offers a yuan field and a 万元 field: exactly one of
/// them must be given.
pub fn amount(
    field: &str,
    yuan: Option<Yuan>,
    wan: Option<&Wan>,
) -> Result<domain::Yuan, ApiError> {
    match (yuan, wan) {
        (Some(y), None) => y.to_domain(field),
        (None, Some(w)) => {
            domain::Yuan::parse_wan(&w.0).map_err(|e| ApiError::value(&format!("{field}Wan"), e))
        }
        (Some(_), Some(_)) => Err(ApiError::validation(
            field,
            format!("give {field} (yuan) or {field}Wan (万元), not both"),
            format!("{field}（元）与 {field}Wan（万元）只能填一个"),
        )),
        (None, None) => Err(ApiError::validation(
            field,
            format!("{field} (yuan) or {field}Wan (万元) is required"),
            format!("须填写 {field}（元）或 {field}Wan（万元）"),
        )),
    }
}

macro_rules! text_scalar {
    (
        $(#[doc = $doc:literal])* $name:ident, $gql:literal,
        wire: $wire:literal $(, specified_by: $url:literal)?
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, sqlx::Type)]
        #[sqlx(transparent)]
        pub struct $name(pub String);

        // async-graphql takes a scalar's schema description from the impl, not the struct.
        #[doc = $wire]
        #[Scalar(name = $gql $(, specified_by_url = $url)?)]
        impl ScalarType for $name {
            fn parse(value: Value) -> InputValueResult<Self> {
                match value {
                    Value::String(s) => Ok($name(s)),
                    other => Err(InputValueError::expected_type(other)),
                }
            }

            // In validation, where the error can name the field (see `Yuan::is_valid`).
            fn is_valid(value: &Value) -> bool {
                matches!(value, Value::String(_))
            }

            fn to_value(&self) -> Value {
                Value::String(self.0.clone())
            }
        }
    };
}

text_scalar!(
    /// A calendar date, `YYYY-MM-DD` (ISO 8601), in the county's calendar. 日期
    Date,
    "Date",
    wire: "A calendar date in the county's calendar (UTC+8), on the wire a JSON string \
           `YYYY-MM-DD` (RFC 3339 full-date), e.g. `\"2026-06-30\"`. \
           日期（县所在时区），JSON 字符串，格式 YYYY-MM-DD。",
    specified_by: "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
);
text_scalar!(
    /// A reporting month, `YYYY-MM`. 报表期（月）
    Period,
    "Period",
    wire: "A reporting month, on the wire a JSON string `YYYY-MM` (ISO 8601 year and month), \
           e.g. `\"2026-10\"` for October's report (1–10月 is read in November). \
           报表期（月），JSON 字符串，格式 YYYY-MM。"
);
text_scalar!(
    /// An area in mu (亩) as an exact decimal string with at most 4 decimals, e.g. `"12.5"`.
    /// 面积（亩）
    Mu,
    "Mu",
    wire: "An area in mu (亩, about 666.67 m²), on the wire a JSON string holding an exact \
           decimal ≥ 0 with at most 4 decimals, e.g. `\"12.5\"` (a string, so that no float \
           rounds it). 面积，单位亩，JSON 字符串形式的精确小数，最多 4 位小数。"
);
text_scalar!(
    /// A moment, RFC 3339 in UTC, e.g. `2026-11-26T08:30:00.123456Z`. 时间戳
    DateTime,
    "DateTime",
    wire: "A moment, on the wire a JSON string in RFC 3339 with the UTC offset `Z` and the \
           fraction of a second when there is one, e.g. `\"2026-11-26T08:30:00.123456Z\"` (16:30 in the county, UTC+8). \
           时间戳，JSON 字符串，RFC 3339 格式，UTC 时区（北京时间减 8 小时）。",
    specified_by: "https://scalars.graphql.org/andimarek/date-time.html"
);
text_scalar!(
    /// An exact decimal number as a string (target values, which may be yuan, counts or mu).
    /// 精确小数
    Decimal,
    "Decimal",
    wire: "An exact decimal number, on the wire a JSON string, e.g. `\"100000000.0000\"`: \
           target values, in the unit of their metric (yuan, a count or mu). \
           精确小数，JSON 字符串；目标值的单位随指标而定（元、个数或亩）。"
);

/// Any JSON value: an event's data and metadata, a rule's settings. Our own scalar rather than
/// async-graphql's `Json`, so that its description says what it holds in both languages.
#[derive(Debug, Clone, PartialEq)]
pub struct Json(pub serde_json::Value);

/// Any JSON value, as is on the wire (an object, array, string, number, boolean or null): the
/// recorded data and metadata of an event, the settings of a rule, with the field names of the
/// published event format (docs/export-format.md). 任意 JSON 值，原样传输（事件数据与元数据、规则设置）。
#[Scalar(name = "JSON")]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        value.into_json().map(Json).map_err(InputValueError::custom)
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}

impl Date {
    pub fn to_domain(&self, field: &str) -> Result<time::Date, ApiError> {
        domain::period::parse_date(&self.0).map_err(|e| ApiError::value(field, e))
    }
    pub fn of(d: time::Date) -> Date {
        Date(format!(
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        ))
    }
}

impl Period {
    pub fn to_domain(&self, field: &str) -> Result<domain::Period, ApiError> {
        domain::Period::parse(&self.0).map_err(|e| ApiError::value(field, e))
    }
}

impl Mu {
    pub fn to_domain(&self, field: &str) -> Result<domain::Mu, ApiError> {
        domain::Mu::parse(&self.0).map_err(|e| ApiError::value(field, e))
    }
}

impl DateTime {
    pub fn to_domain(&self, field: &str) -> Result<time::OffsetDateTime, ApiError> {
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                ApiError::validation(
                    field,
                    format!(
                        "{field} must be an RFC 3339 date and time, e.g. 2026-06-30T23:59:59+08:00"
                    ),
                    format!("{field} 须为 RFC 3339 格式的时间，例如 2026-06-30T23:59:59+08:00"),
                )
            })
    }

    pub fn of(t: time::OffsetDateTime) -> DateTime {
        let t = t.to_offset(time::UtcOffset::UTC);
        DateTime(
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| t.to_string()),
        )
    }
}
