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
    ($(#[doc = $doc:literal])* $name:ident, $gql:literal) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, sqlx::Type)]
        #[sqlx(transparent)]
        pub struct $name(pub String);

        #[Scalar(name = $gql)]
        impl ScalarType for $name {
            fn parse(value: Value) -> InputValueResult<Self> {
                match value {
                    Value::String(s) => Ok($name(s)),
                    other => Err(InputValueError::expected_type(other)),
                }
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
    "Date"
);
text_scalar!(
    /// A reporting month, `YYYY-MM`. 报表期（月）
    Period,
    "Period"
);
text_scalar!(
    /// An area in mu (亩) as an exact decimal string with at most 4 decimals, e.g. `"12.5"`.
    /// 面积（亩）
    Mu,
    "Mu"
);
text_scalar!(
    /// A moment, RFC 3339 in UTC, e.g. `2026-11-26T08:30:00.123456Z`. 时间戳
    DateTime,
    "DateTime"
);
text_scalar!(
    /// An exact decimal number as a string (target values, which may be yuan, counts or mu).
    /// 精确小数
    Decimal,
    "Decimal"
);

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
