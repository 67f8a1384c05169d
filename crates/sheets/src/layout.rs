//! The monthly report's layout, defined once: the writer lays the template out from it and the
//! reader finds the columns of a filled sheet by the same headers (docs/excel.md).

use domain::{Period, Yuan};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Rows of the template, 0-based as rust_xlsxwriter counts them: the title (merged across the
/// columns), a line with the unit, the period and when the sheet was made, the headers, then
/// one row per project.
pub const TITLE_ROW: u32 = 0;
pub const INFO_ROW: u32 = 1;
pub const HEADER_ROW: u32 = 2;
pub const FIRST_DATA_ROW: u32 = 3;

/// The name of the sheet clerks fill, and of the one that explains it.
pub const REPORT_SHEET: &str = "月度投资填报";
pub const INSTRUCTIONS_SHEET: &str = "填报说明";

/// The columns of the monthly report, in sheet order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Seq,
    Name,
    Code,
    Lead,
    LastInvestment,
    LastFunds,
    YtdInvestment,
    YtdFunds,
    Investment,
    Funds,
    Narrative,
    Problems,
    CorrectionReason,
    Key,
}

impl Column {
    pub const ALL: [Column; 14] = [
        Column::Seq,
        Column::Name,
        Column::Code,
        Column::Lead,
        Column::LastInvestment,
        Column::LastFunds,
        Column::YtdInvestment,
        Column::YtdFunds,
        Column::Investment,
        Column::Funds,
        Column::Narrative,
        Column::Problems,
        Column::CorrectionReason,
        Column::Key,
    ];

    /// The header as the sheet shows it.
    pub fn header_zh(self) -> &'static str {
        match self {
            Column::Seq => "序号",
            Column::Name => "项目名称",
            Column::Code => "项目代码",
            Column::Lead => "包抓领导",
            Column::LastInvestment => "上月完成投资（万元）",
            Column::LastFunds => "上月到位资金（万元）",
            Column::YtdInvestment => "截至上月本年完成投资（万元）",
            Column::YtdFunds => "截至上月本年到位资金（万元）",
            Column::Investment => "本月完成投资（万元）",
            Column::Funds => "本月到位资金（万元）",
            Column::Narrative => "形象进度",
            Column::Problems => "存在问题",
            Column::CorrectionReason => "更正原因",
            Column::Key => "行键（系统使用，请勿修改）",
        }
    }

    /// The column's name in English messages.
    pub fn header_en(self) -> &'static str {
        match self {
            Column::Seq => "No.",
            Column::Name => "project name",
            Column::Code => "project code",
            Column::Lead => "lead official",
            Column::LastInvestment => "last month's completed investment (万元)",
            Column::LastFunds => "last month's funds in place (万元)",
            Column::YtdInvestment => "completed investment this year to last month (万元)",
            Column::YtdFunds => "funds in place this year to last month (万元)",
            Column::Investment => "completed investment this month (万元)",
            Column::Funds => "funds in place this month (万元)",
            Column::Narrative => "progress narrative",
            Column::Problems => "problems",
            Column::CorrectionReason => "correction reason",
            Column::Key => "row key",
        }
    }

    /// The cells a clerk fills; every other column is locked on the protected sheet.
    pub fn is_fill(self) -> bool {
        matches!(
            self,
            Column::Investment
                | Column::Funds
                | Column::Narrative
                | Column::Problems
                | Column::CorrectionReason
        )
    }

    /// Amounts in 万元 (number cells).
    pub fn is_amount(self) -> bool {
        matches!(
            self,
            Column::LastInvestment
                | Column::LastFunds
                | Column::YtdInvestment
                | Column::YtdFunds
                | Column::Investment
                | Column::Funds
        )
    }

    /// Reference columns: shown for orientation, covered by the row key's digest, so an edit
    /// is noticed on upload.
    pub fn is_reference(self) -> bool {
        matches!(
            self,
            Column::Name
                | Column::Code
                | Column::Lead
                | Column::LastInvestment
                | Column::LastFunds
                | Column::YtdInvestment
                | Column::YtdFunds
        )
    }

    /// 0-based column index in the template.
    pub fn index(self) -> u16 {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0) as u16
    }

    /// The column letter in the template (A, B, …).
    pub fn letter(self) -> char {
        char::from(b'A' + self.index() as u8)
    }

    /// The column whose header reads `text`, tolerating what spreadsheet programs and people do
    /// to headers: surrounding and inner spaces, half-width parentheses, a line break.
    pub fn from_header(text: &str) -> Option<Column> {
        let wanted = normalize_header(text);
        Column::ALL
            .into_iter()
            .find(|c| normalize_header(c.header_zh()) == wanted)
    }
}

fn normalize_header(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

/// What a template row is made from: the reference values shown to the clerk. The digest of
/// these goes into the row key, so an edited reference cell is found on upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub code: Option<String>,
    pub lead_official: String,
    pub last_investment: Option<Yuan>,
    pub last_funds: Option<Yuan>,
    pub ytd_investment: Yuan,
    pub ytd_funds: Yuan,
}

impl Reference {
    /// The reference values in column order, as compared on upload: texts trimmed, amounts in
    /// yuan, absent ones empty.
    pub fn values(&self) -> [(Column, String); 7] {
        let amount = |y: Option<Yuan>| y.map(|y| y.get().to_string()).unwrap_or_default();
        [
            (Column::Name, self.name.trim().to_owned()),
            (
                Column::Code,
                self.code.clone().unwrap_or_default().trim().to_owned(),
            ),
            (Column::Lead, self.lead_official.trim().to_owned()),
            (Column::LastInvestment, amount(self.last_investment)),
            (Column::LastFunds, amount(self.last_funds)),
            (Column::YtdInvestment, amount(Some(self.ytd_investment))),
            (Column::YtdFunds, amount(Some(self.ytd_funds))),
        ]
    }

    /// Four hex digits of SHA-256 per reference column, concatenated (28 digits): enough to
    /// notice an edited cell and to name its column, short enough for a key people never read.
    pub fn digest(&self) -> String {
        self.values()
            .iter()
            .map(|(_, v)| column_digest(v))
            .collect()
    }
}

/// Four hex digits of SHA-256 of one reference value.
pub fn column_digest(value: &str) -> String {
    hex::encode(&Sha256::digest(value.as_bytes())[..2])
}

/// The reference columns whose digest in `digest` differs from `values`'.
pub fn edited_columns(digest: &str, values: &[(Column, String); 7]) -> Vec<Column> {
    values
        .iter()
        .enumerate()
        .filter(|(i, (_, v))| digest.get(i * 4..i * 4 + 4) != Some(column_digest(v).as_str()))
        .map(|(_, (c, _))| *c)
        .collect()
}

/// The hidden key of a row: what the sheet was made against.
///
/// Text form `TZ1|<unit>|<project uuid>|<YYYY-MM>|<stream version>|<digest>`: the unit the
/// template was made for, the project, the period, the version of the project's stream when the
/// template was made (the upload's expected version) and [`Reference::digest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    pub unit: String,
    pub project_id: Uuid,
    pub period: Period,
    pub version: u64,
    pub digest: String,
}

const KEY_PREFIX: &str = "TZ1";

impl RowKey {
    pub fn to_text(&self) -> String {
        format!(
            "{KEY_PREFIX}|{}|{}|{}|{}|{}",
            self.unit, self.project_id, self.period, self.version, self.digest
        )
    }

    /// `None` when the text is not a key this crate wrote (or was edited beyond recognition).
    pub fn parse(text: &str) -> Option<RowKey> {
        let mut parts = text.trim().split('|');
        if parts.next()? != KEY_PREFIX {
            return None;
        }
        let unit = parts.next()?.to_owned();
        let project_id = Uuid::parse_str(parts.next()?).ok()?;
        let period = Period::parse(parts.next()?).ok()?;
        let version = parts.next()?.parse().ok()?;
        let digest = parts.next()?.to_owned();
        if parts.next().is_some() || unit.is_empty() || digest.len() != 28 {
            return None;
        }
        Some(RowKey {
            unit,
            project_id,
            period,
            version,
            digest,
        })
    }
}

/// The month before `p` (reference figures are last month's).
pub fn previous(p: Period) -> Option<Period> {
    if p.month() == 1 {
        Period::new(p.year() - 1, 12).ok()
    } else {
        Period::new(p.year(), p.month() - 1).ok()
    }
}

/// `2026-11` as 2026年11月.
pub fn period_zh(p: Period) -> String {
    format!("{}年{}月", p.year(), p.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_despite_spacing_and_half_width_parentheses() {
        for c in Column::ALL {
            assert_eq!(Column::from_header(c.header_zh()), Some(c));
        }
        assert_eq!(
            Column::from_header(" 本月完成投资 (万元) "),
            Some(Column::Investment)
        );
        assert_eq!(Column::from_header("本月完成投资"), None);
    }

    #[test]
    fn a_key_reads_back_and_refuses_edits() {
        let key = RowKey {
            unit: "dev-zone".into(),
            project_id: Uuid::from_u128(7),
            period: Period::new(2026, 11).unwrap_or_else(|_| unreachable!()),
            version: 12,
            digest: "0123456789abcdef0123456789ab".into(),
        };
        assert_eq!(RowKey::parse(&key.to_text()), Some(key.clone()));
        assert_eq!(RowKey::parse(&format!(" {} ", key.to_text())), Some(key));
        assert_eq!(
            RowKey::parse("TZ1|dev-zone|x|2026-11|12|0123456789abcdef0123456789ab"),
            None
        );
        assert_eq!(RowKey::parse("TZ2|dev-zone"), None);
    }

    #[test]
    fn the_digest_changes_with_every_reference_value() {
        let base = Reference {
            name: "新能源电池项目".into(),
            code: Some("2601-341100-04-01-123456".into()),
            lead_official: "王副县长".into(),
            last_investment: Yuan::new(1_234_500).ok(),
            last_funds: None,
            ytd_investment: Yuan::new(5_000_000).unwrap_or_default(),
            ytd_funds: Yuan::default(),
        };
        let mut other = base.clone();
        other.last_funds = Yuan::new(0).ok();
        assert_ne!(base.digest(), other.digest(), "0 and empty differ");
        let mut other = base.clone();
        other.name.push('二');
        assert_ne!(base.digest(), other.digest());
        assert_eq!(base.digest().len(), 28);
        assert_eq!(
            edited_columns(&base.digest(), &other.values()),
            vec![Column::Name]
        );
        assert!(edited_columns(&base.digest(), &base.values()).is_empty());
    }
}
