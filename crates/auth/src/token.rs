//! Tokens as records: what is asked for at creation, what is kept, and the checks on both.

use domain::UnitId;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{Role, Secret};

/// The longest lifetime a token may have: rotation at least every five years.
pub const MAX_LIFETIME: Duration = Duration::days(5 * 366);
/// The lifetime when none is given.
pub const DEFAULT_LIFETIME: Duration = Duration::days(90);

/// What a new token is to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    /// The units an editor acts for; must be empty for the other roles.
    pub units: Vec<UnitId>,
    pub lifetime: Duration,
}

/// A token as stored (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub token_id: Uuid,
    pub name: String,
    pub role: Role,
    pub units: Vec<UnitId>,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
}

/// Whether a token would be accepted at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

impl TokenInfo {
    pub fn status(&self, now: OffsetDateTime) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.expires_at <= now {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// A token just made: the only moment its secret exists outside the client.
#[derive(Debug)]
pub struct CreatedToken {
    pub info: TokenInfo,
    pub secret: Secret,
}

/// Why a token could not be created, listed or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{field}: {en} ({zh})")]
    Invalid {
        field: &'static str,
        en: String,
        zh: String,
    },
    #[error("no token {0} (令牌不存在)")]
    NotFound(Uuid),
    #[error("token {0} is already revoked (令牌已吊销)")]
    AlreadyRevoked(Uuid),
    #[error("the operating system's random source failed (系统随机数不可用): {0}")]
    Random(getrandom::Error),
    #[error("database error (数据库错误): {0}")]
    Database(#[from] sqlx::Error),
    #[error("the stored token {token_id} is unreadable (令牌记录无法解析): {detail}")]
    Corrupt { token_id: Uuid, detail: String },
}

fn invalid(field: &'static str, en: impl Into<String>, zh: impl Into<String>) -> TokenError {
    TokenError::Invalid {
        field,
        en: en.into(),
        zh: zh.into(),
    }
}

impl NewToken {
    /// Checks the request and normalises it (trimmed name, units sorted without repeats).
    pub fn validated(mut self) -> Result<NewToken, TokenError> {
        self.name = self.name.trim().to_owned();
        let chars = self.name.chars().count();
        if !(1..=100).contains(&chars) {
            return Err(invalid(
                "name",
                "a token needs a name of 1 to 100 characters",
                "令牌名称须为 1 至 100 个字符",
            ));
        }
        if self.name.chars().any(char::is_control) {
            return Err(invalid(
                "name",
                "the name may not contain control characters",
                "名称不能包含控制字符",
            ));
        }
        self.units.sort();
        self.units.dedup();
        if self.role.is_scoped() && self.units.is_empty() {
            return Err(invalid(
                "units",
                "an editor token needs at least one unit (--unit)",
                "填报员令牌至少需要指定一个责任单位（--unit）",
            ));
        }
        if !self.role.is_scoped() && !self.units.is_empty() {
            return Err(invalid(
                "units",
                format!(
                    "units limit editors only; a {} token reads or acts county-wide",
                    self.role
                ),
                format!(
                    "责任单位范围仅适用于填报员；{}令牌的权限覆盖全县",
                    self.role.name_zh()
                ),
            ));
        }
        if self.lifetime <= Duration::ZERO || self.lifetime > MAX_LIFETIME {
            return Err(invalid(
                "expires_in",
                "a token must expire after a positive time of at most 5 years",
                "令牌有效期须大于零且不超过 5 年",
            ));
        }
        Ok(self)
    }
}

/// Parses a lifetime such as `90d`, `12h`, `2w`, `30m` or `45s`; days may also be written
/// `90天` or `90日`, as a clerk types them.
pub fn parse_lifetime(text: &str) -> Result<Duration, TokenError> {
    let text = text.trim();
    let bad = || {
        invalid(
            "expires_in",
            format!(
                "{text:?} is not a lifetime: write a number and s, m, h, d (or 天, 日) or w, e.g. 90d"
            ),
            format!(
                "{text:?} 不是有效期：请写数字加单位 s、m、h、d（或 天、日）或 w，例如 90d、90天"
            ),
        )
    };
    // The unit is the last character, not the last byte: `90日` ends in three bytes, and
    // splitting inside them would panic.
    let unit = text.chars().next_back().ok_or_else(bad)?;
    let number = &text[..text.len() - unit.len_utf8()];
    let n: i64 = number.parse().map_err(|_| bad())?;
    if n <= 0 {
        return Err(bad());
    }
    let seconds_per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' | '天' | '日' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad()),
    };
    let lifetime = Duration::seconds(n.checked_mul(seconds_per).ok_or_else(bad)?);
    if lifetime > MAX_LIFETIME {
        return Err(invalid(
            "expires_in",
            "a token may live at most 5 years",
            "令牌有效期最长 5 年",
        ));
    }
    Ok(lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(s: &str) -> UnitId {
        UnitId::parse(s).unwrap()
    }

    fn new(role: Role, units: &[&str]) -> NewToken {
        NewToken {
            name: "  clerk ".into(),
            role,
            units: units.iter().map(|u| unit(u)).collect(),
            lifetime: DEFAULT_LIFETIME,
        }
    }

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("90d").unwrap(), Duration::days(90));
        assert_eq!(parse_lifetime("2w").unwrap(), Duration::weeks(2));
        assert_eq!(parse_lifetime("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_lifetime("30m").unwrap(), Duration::minutes(30));
        assert_eq!(parse_lifetime("45s").unwrap(), Duration::seconds(45));
        // Chinese day units; the last character is three bytes (this panicked).
        assert_eq!(parse_lifetime("90日").unwrap(), Duration::days(90));
        assert_eq!(parse_lifetime("7天").unwrap(), Duration::days(7));
        assert_eq!(parse_lifetime(" 7天 ").unwrap(), Duration::days(7));
        for bad in [
            "",
            "日",
            "3月",
            "2周",
            "12小时",
            "é",
            "7天天",
            "d",
            "90",
            "-1d",
            "0d",
            "1y",
            "9999999999999999w",
            "6000d",
            "1.5d",
        ] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_belong_to_editors() {
        let ok = new(Role::Editor, &["b-town", "a-town", "b-town"])
            .validated()
            .unwrap();
        assert_eq!(ok.units, vec![unit("a-town"), unit("b-town")]);
        assert_eq!(ok.name, "clerk");
        assert!(new(Role::Editor, &[]).validated().is_err());
        assert!(new(Role::Viewer, &["a-town"]).validated().is_err());
        assert!(new(Role::Admin, &[]).validated().is_ok());
    }

    #[test]
    fn names_and_lifetimes_are_bounded() {
        let mut t = new(Role::Viewer, &[]);
        t.name = " ".into();
        assert!(t.clone().validated().is_err());
        t.name = "a\nb".into();
        assert!(t.clone().validated().is_err());
        t.name = "x".repeat(101);
        assert!(t.clone().validated().is_err());
        t.name = "名".repeat(100);
        assert!(t.clone().validated().is_ok());
        t.lifetime = Duration::ZERO;
        assert!(t.clone().validated().is_err());
        t.lifetime = MAX_LIFETIME + Duration::SECOND;
        assert!(t.validated().is_err());
    }
}
