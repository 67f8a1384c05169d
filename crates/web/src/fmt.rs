//! How figures read on the pages: money in 万元 or 亿元 with digit grouping, percentages,
//! county time (UTC+8), and the Chinese names of the API's enums. Presentation only: every
//! figure arrives computed from the API.

use maud::{Markup, html};
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

/// The county's time zone (China Standard Time, no daylight saving).
pub const COUNTY: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Today in the county.
pub fn today() -> time::Date {
    OffsetDateTime::now_utc().to_offset(COUNTY).date()
}

/// Digits grouped by thousands: `12345678` → `12,345,678`.
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// An integer with two decimals from hundredths, e.g. `123456` → `1,234.56`.
fn hundredths(h: i64) -> String {
    format!("{}.{:02}", group(h / 100), h % 100)
}

/// Money in yuan, read as people read it: `4,560.50 万元` below 1 亿元, `12.35 亿元` from
/// there on (rounded half up in integers; the exact figure is in the title attribute).
pub fn money(yuan: i64) -> String {
    if yuan >= 100_000_000 {
        format!("{} 亿元", hundredths((yuan + 500_000) / 1_000_000))
    } else {
        format!("{} 万元", hundredths((yuan + 50) / 100))
    }
}

/// Money from a JSON figure (the API's `Yuan` is an integer); `—` when absent.
pub fn money_v(v: &Value) -> String {
    v.as_i64().map(money).unwrap_or_else(|| "—".into())
}

/// A money figure with its exact yuan as a tooltip.
pub fn money_m(v: &Value) -> Markup {
    match v.as_i64() {
        Some(y) => html! { span.num title=(format!("{} 元", group(y))) { (money(y)) } },
        None => html! { span.none { "—" } },
    }
}

/// A percentage with one decimal; `—` when the API has none (e.g. no target).
pub fn pct(v: &Value) -> String {
    v.as_f64()
        .map(|p| format!("{p:.1}%"))
        .unwrap_or_else(|| "—".into())
}

/// Percentage points with a sign.
pub fn pp(v: &Value) -> String {
    v.as_f64()
        .map(|p| format!("{p:+.1} 个百分点"))
        .unwrap_or_else(|| "—".into())
}

/// An integer count.
pub fn count(v: &Value) -> String {
    v.as_i64().map(group).unwrap_or_else(|| "—".into())
}

/// An area in mu (the API's `Mu` is an exact decimal string).
pub fn mu(v: &Value) -> String {
    match v.as_str() {
        Some(s) => format!("{s} 亩"),
        None => "—".into(),
    }
}

/// A string field, `—` when null.
pub fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("—")
}

/// A recording time (RFC 3339, UTC) in county time: `2026-12-04 18:30`.
pub fn datetime(v: &Value) -> String {
    let Some(s) = v.as_str() else {
        return "—".into();
    };
    match OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(COUNTY);
            format!(
                "{}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => s.to_owned(),
    }
}

/// A light as a badge whose text says the colour (colour is never the only signal).
pub fn light(v: &Value) -> Markup {
    match v.as_str() {
        Some("RED") => html! { span.light.red { "红灯" } },
        Some("YELLOW") => html! { span.light.yellow { "黄灯" } },
        Some("GREEN") => html! { span.light.green { "绿灯" } },
        _ => html! { span.light.none { "无" } },
    }
}

/// The Chinese name of an API enum value, or the value itself when unknown.
pub fn label(kind: Enum, v: &Value) -> String {
    let Some(s) = v.as_str() else {
        return "—".into();
    };
    kind.options()
        .iter()
        .find(|(k, _)| *k == s)
        .map(|(_, zh)| (*zh).to_owned())
        .unwrap_or_else(|| s.to_owned())
}

/// The API's enums that pages show or filter by.
#[derive(Clone, Copy)]
pub enum Enum {
    Stage,
    Status,
    Kind,
    InvestorType,
    SizeClass,
    Metric,
    Category,
    SupervisionStatus,
    Light,
}

impl Enum {
    /// Every value with its Chinese name, in the order forms list them.
    pub fn options(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Enum::Stage => &[
                ("LEAD", "线索"),
                ("NEGOTIATING", "在谈"),
                ("FRAMEWORK_SIGNED", "签订框架协议"),
                ("CONTRACTED", "正式签约"),
                ("UNDER_CONSTRUCTION", "在建"),
                ("COMPLETED", "竣工"),
                ("IN_PRODUCTION", "投产"),
            ],
            Enum::Status => &[
                ("ACTIVE", "正常推进"),
                ("DELAYED", "滞后"),
                ("DORMANT", "停滞"),
                ("ABANDONED", "终止"),
            ],
            Enum::Kind => &[
                ("ATTRACTED", "招商引资"),
                ("GOVERNMENT", "政府投资"),
                ("EXPANSION", "技改扩建"),
            ],
            Enum::InvestorType => &[
                ("CENTRAL_SOE", "央企"),
                ("PROVINCIAL_SOE", "省企"),
                ("PRIVATE", "民企"),
                ("FOREIGN", "外资"),
                ("OTHER", "其他"),
            ],
            Enum::SizeClass => &[
                ("BELOW_5M", "500万元以下"),
                ("FROM_5M_TO_10M", "500万–1000万元"),
                ("FROM_10M_TO_100M", "1000万–1亿元"),
                ("FROM_100M_TO_1B", "1亿–10亿元"),
                ("FROM_1B", "10亿元以上"),
            ],
            Enum::Metric => &[
                ("COMPLETED_INVESTMENT", "完成投资"),
                ("FUNDS_IN_PLACE", "到位资金"),
                ("SIGNED_PROJECTS", "签约项目"),
                ("SIGNED_INVESTMENT", "签约金额"),
                ("BIG_PROJECTS_SIGNED", "亿元以上签约项目"),
                ("STARTED_PROJECTS", "开工项目"),
                ("PRODUCTION_PROJECTS", "投产项目"),
                ("EXPROPRIATED_AREA", "征迁面积"),
            ],
            Enum::Category => &[
                ("EXPROPRIATION", "征迁"),
                ("FACTOR_SUPPORT", "要素保障"),
                ("APPROVAL", "审批"),
                ("FUNDING", "资金"),
                ("OTHER", "其他"),
            ],
            Enum::SupervisionStatus => &[
                ("OPEN", "办理中"),
                ("CLOSURE_REQUESTED", "已申请销号"),
                ("CLOSED", "已销号"),
            ],
            Enum::Light => &[("RED", "红灯"), ("YELLOW", "黄灯"), ("GREEN", "绿灯")],
        }
    }
}

/// A target metric's figure in its own unit: money, a count, or an area (the API's `Decimal`
/// is a string).
pub fn metric_value(metric: &Value, v: &Value) -> String {
    let Some(s) = v.as_str() else {
        return "—".into();
    };
    match metric.as_str() {
        Some("COMPLETED_INVESTMENT" | "FUNDS_IN_PLACE" | "SIGNED_INVESTMENT") => s
            .split('.')
            .next()
            .and_then(|i| i.parse::<i64>().ok())
            .map(money)
            .unwrap_or_else(|| s.to_owned()),
        Some("EXPROPRIATED_AREA") => format!("{s} 亩"),
        _ => format!("{s} 个"),
    }
}

/// The `units` list as a picker's options: `(unitId, name)`.
pub fn unit_options(units: &Value) -> Vec<(String, String)> {
    units
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| (text(&u["unitId"]).to_owned(), text(&u["name"]).to_owned()))
        .collect()
}

/// A unit's name from the `units` list, else its id.
pub fn unit_name<'a>(units: &'a Value, id: &'a Value) -> &'a str {
    let id = id.as_str().unwrap_or("—");
    units
        .as_array()
        .and_then(|list| list.iter().find(|u| u["unitId"].as_str() == Some(id)))
        .and_then(|u| u["name"].as_str())
        .unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_reads_in_wan_and_yi() {
        assert_eq!(money(0), "0.00 万元");
        assert_eq!(money(45_605_000), "4,560.50 万元");
        assert_eq!(money(99_999_999), "10,000.00 万元");
        assert_eq!(money(100_000_000), "1.00 亿元");
        assert_eq!(money(1_234_567_890_123), "12,345.68 亿元");
        assert_eq!(group(-1234), "-1,234");
    }

    #[test]
    fn times_are_county_time() {
        assert_eq!(datetime(&json!("2026-12-04T18:30:00Z")), "2026-12-05 02:30");
        assert_eq!(datetime(&Value::Null), "—");
    }

    #[test]
    fn labels_and_metric_units() {
        assert_eq!(label(Enum::Stage, &json!("UNDER_CONSTRUCTION")), "在建");
        assert_eq!(
            metric_value(&json!("SIGNED_INVESTMENT"), &json!("250000000")),
            "2.50 亿元"
        );
        assert_eq!(metric_value(&json!("SIGNED_PROJECTS"), &json!("7")), "7 个");
    }
}
