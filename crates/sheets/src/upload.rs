//! A filled monthly report read back into typed rows, with every problem found on the way named
//! by row and column, in English and Chinese. Nothing here knows the ledger: the rules that need
//! the projects' state are checked by the caller (the API), which adds its errors to the same list.

use std::collections::{BTreeMap, BTreeSet};

use domain::{Period, Yuan};
use uuid::Uuid;

use crate::grid::{Cell, Grid};
use crate::layout::{Column, RowKey, edited_columns};

/// One refusal: where (1-based sheet row as the program shows it, column) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// The sheet row (1 = the first row); `None` for the sheet as a whole.
    pub row: Option<u32>,
    pub column: Option<Column>,
    /// A domain code (`MONEY_INVALID`, `INVESTMENT_ALREADY_REPORTED`, …) or one of the sheet's
    /// own (docs/excel.md, "Errors").
    pub code: String,
    pub message_en: String,
    pub message_zh: String,
}

impl CellError {
    pub fn new(
        row: Option<u32>,
        column: Option<Column>,
        code: impl Into<String>,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> CellError {
        CellError {
            row,
            column,
            code: code.into(),
            message_en: en.into(),
            message_zh: zh.into(),
        }
    }

    /// `row 5, column I (本月完成投资（万元）)`, for logs and the CLI.
    pub fn place(&self) -> String {
        match (self.row, self.column) {
            (Some(r), Some(c)) => format!("row {r}, column {} ({})", c.letter(), c.header_zh()),
            (Some(r), None) => format!("row {r}"),
            (None, Some(c)) => format!("column {} ({})", c.letter(), c.header_zh()),
            (None, None) => "sheet".to_owned(),
        }
    }
}

/// The sheet's own error codes (the domain's are used as they are).
pub mod codes {
    pub const NOT_A_TEMPLATE: &str = "SHEET_NOT_A_TEMPLATE";
    pub const COLUMN_MISSING: &str = "SHEET_COLUMN_MISSING";
    pub const KEY_MISSING: &str = "ROW_KEY_MISSING";
    pub const KEY_INVALID: &str = "ROW_KEY_INVALID";
    pub const REFERENCE_EDITED: &str = "REFERENCE_EDITED";
    pub const AMOUNT_REQUIRED: &str = "AMOUNT_REQUIRED";
    pub const DUPLICATE_ROW: &str = "DUPLICATE_ROW";
    pub const PERIOD_MISMATCH: &str = "PERIOD_MISMATCH";
    pub const UNIT_MISMATCH: &str = "UNIT_MISMATCH";
    pub const PROJECT_UNKNOWN: &str = "PROJECT_UNKNOWN";
    pub const PROJECT_CHANGED: &str = "PROJECT_CHANGED";
    pub const CORRECTION_REASON_REQUIRED: &str = "CORRECTION_REASON_REQUIRED";
    pub const NOTHING_TO_RECORD: &str = "NOTHING_TO_RECORD";
}

/// One filled row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledRow {
    /// 1-based sheet row.
    pub row: u32,
    pub key: RowKey,
    pub name: String,
    pub investment: Yuan,
    pub funds: Yuan,
    pub narrative: Option<String>,
    pub problems: Option<String>,
    pub correction_reason: Option<String>,
}

impl FilledRow {
    /// The row's content as text, for the idempotency key of an upload (the same rows give the
    /// same key, whatever program re-saved the file).
    pub fn canonical(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.key.project_id,
            self.key.period,
            self.investment.get(),
            self.funds.get(),
            self.narrative.as_deref().unwrap_or(""),
            self.problems.as_deref().unwrap_or(""),
            self.correction_reason.as_deref().unwrap_or(""),
        )
    }
}

/// What a sheet holds.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub grid: Grid,
    /// Where each column was found (0-based index in the grid).
    pub columns: BTreeMap<Column, usize>,
    pub rows: Vec<FilledRow>,
    /// Project rows left empty (not reported this time), 1-based.
    pub unfilled: Vec<u32>,
    /// The unit and period of the sheet (from the first row key).
    pub unit: Option<String>,
    pub period: Option<Period>,
    pub errors: Vec<CellError>,
}

impl Upload {
    /// The 1-based sheet row of each project, for errors the caller finds.
    pub fn row_of(&self, project: Uuid) -> Option<u32> {
        self.rows
            .iter()
            .find(|r| r.key.project_id == project)
            .map(|r| r.row)
    }
}

/// Reads the rows of a filled template. Every problem is collected; a row with any is left out
/// of `rows`.
pub fn parse(grid: Grid) -> Upload {
    let mut up = Upload {
        grid,
        ..Upload::default()
    };
    let Some(header) = up.grid.header_row() else {
        up.errors.push(CellError::new(
            None,
            None,
            codes::NOT_A_TEMPLATE,
            format!(
                "no sheet has the monthly report's headers ({} … {}): upload a template downloaded from taizhang",
                Column::Name.header_zh(),
                Column::Key.header_zh()
            ),
            "未找到月度投资填报表的表头（项目名称……行键），请使用从台账系统下载的模板填报",
        ));
        return up;
    };
    for (i, cell) in up.grid.rows[header].iter().enumerate() {
        if let Some(c) = Column::from_header(&cell.text()) {
            up.columns.entry(c).or_insert(i);
        }
    }
    let missing: Vec<Column> = Column::ALL
        .into_iter()
        .filter(|c| *c != Column::Seq && *c != Column::CorrectionReason)
        .filter(|c| !up.columns.contains_key(c))
        .collect();
    for c in &missing {
        up.errors.push(CellError::new(
            Some(header as u32 + 1),
            Some(*c),
            codes::COLUMN_MISSING,
            format!(
                "the column {} ({}) is missing",
                c.header_zh(),
                c.header_en()
            ),
            format!("缺少“{}”列", c.header_zh()),
        ));
    }
    if !missing.is_empty() {
        return up;
    }
    let mut seen: BTreeSet<Uuid> = BTreeSet::new();
    for r in header + 1..up.grid.rows.len() {
        if let Some(row) = read_row(&mut up, r, &mut seen) {
            up.rows.push(row);
        }
    }
    up
}

fn read_row(up: &mut Upload, r: usize, seen: &mut BTreeSet<Uuid>) -> Option<FilledRow> {
    let line = r as u32 + 1;
    let row_cells: Vec<Cell> = up.grid.rows.get(r).cloned().unwrap_or_default();
    let columns = up.columns.clone();
    let cell = |c: Column| -> Cell {
        columns
            .get(&c)
            .and_then(|&i| row_cells.get(i))
            .cloned()
            .unwrap_or(Cell::Empty)
    };
    let text = |c: Column| -> Option<String> {
        let t = cell(c).text();
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    };
    if row_cells.iter().all(Cell::is_blank) {
        // WPS and Excel leave empty rows below the data; they mean nothing.
        return None;
    }
    let mut errors = Vec::new();
    let Some(key_text) = text(Column::Key) else {
        up.errors.push(CellError::new(
            Some(line),
            Some(Column::Key),
            codes::KEY_MISSING,
            "this row has no row key: rows cannot be added to the template; download a new template for new projects",
            "该行没有行键：不能在模板中自行增加行；新项目请重新下载模板",
        ));
        return None;
    };
    let Some(key) = RowKey::parse(&key_text) else {
        up.errors.push(CellError::new(
            Some(line),
            Some(Column::Key),
            codes::KEY_INVALID,
            "the row key was edited and cannot be read; download a new template",
            "行键已被修改，无法识别；请重新下载模板",
        ));
        return None;
    };
    match (&up.unit, up.period) {
        (None, _) => {
            up.unit = Some(key.unit.clone());
            up.period = Some(key.period);
        }
        (Some(unit), Some(period)) => {
            if *unit != key.unit {
                errors.push(CellError::new(
                    Some(line),
                    Some(Column::Key),
                    codes::UNIT_MISMATCH,
                    format!(
                        "this row comes from a template of unit {}, the sheet is for {unit}: one sheet holds one unit",
                        key.unit
                    ),
                    format!(
                        "该行来自单位 {} 的模板，而本表属于 {unit}：一张表只能填报一个单位",
                        key.unit
                    ),
                ));
            }
            if period != key.period {
                errors.push(CellError::new(
                    Some(line),
                    Some(Column::Key),
                    codes::PERIOD_MISMATCH,
                    format!(
                        "this row comes from a template for {}, the sheet is for {period}",
                        key.period
                    ),
                    format!("该行来自 {} 的模板，而本表的报表期为 {period}", key.period),
                ));
            }
        }
        (Some(_), None) => {}
    }
    if !seen.insert(key.project_id) {
        errors.push(CellError::new(
            Some(line),
            Some(Column::Name),
            codes::DUPLICATE_ROW,
            "this project appears twice in the sheet; keep one row",
            "该项目在表中出现两次，请只保留一行",
        ));
    }
    // Reference columns: compared with what the template showed, through the key's digests.
    let amount_text = |c: Column| -> Result<String, CellError> {
        match text(c) {
            None => Ok(String::new()),
            Some(t) => Yuan::parse_wan(&t)
                .map(|y| y.get().to_string())
                .map_err(|e| cell_error(line, c, e)),
        }
    };
    let reference = [
        (Column::Name, text(Column::Name).unwrap_or_default()),
        (Column::Code, text(Column::Code).unwrap_or_default()),
        (Column::Lead, text(Column::Lead).unwrap_or_default()),
        (
            Column::LastInvestment,
            amount_text(Column::LastInvestment).unwrap_or_else(|_| "?".into()),
        ),
        (
            Column::LastFunds,
            amount_text(Column::LastFunds).unwrap_or_else(|_| "?".into()),
        ),
        (
            Column::YtdInvestment,
            amount_text(Column::YtdInvestment).unwrap_or_else(|_| "?".into()),
        ),
        (
            Column::YtdFunds,
            amount_text(Column::YtdFunds).unwrap_or_else(|_| "?".into()),
        ),
    ];
    for c in edited_columns(&key.digest, &reference) {
        errors.push(CellError::new(
            Some(line),
            Some(c),
            codes::REFERENCE_EDITED,
            format!(
                "the reference column {} ({}) was edited; it is locked and must stay as downloaded",
                c.header_zh(),
                c.header_en()
            ),
            format!(
                "参考列“{}”被修改；该列已锁定，须与下载时一致",
                c.header_zh()
            ),
        ));
    }
    let amount = |c: Column| -> Result<Option<Yuan>, CellError> {
        text(c)
            .map(|t| Yuan::parse_wan(&t).map_err(|e| cell_error(line, c, e)))
            .transpose()
    };
    let investment = amount(Column::Investment);
    let funds = amount(Column::Funds);
    let narrative = text(Column::Narrative);
    let problems = text(Column::Problems);
    let correction_reason = text(Column::CorrectionReason);
    let filled = !matches!(investment, Ok(None))
        || !matches!(funds, Ok(None))
        || narrative.is_some()
        || problems.is_some()
        || correction_reason.is_some();
    if !filled {
        up.errors.extend(errors);
        up.unfilled.push(line);
        return None;
    }
    let mut required = |c: Column, v: Result<Option<Yuan>, CellError>| -> Option<Yuan> {
        match v {
            Ok(Some(y)) => Some(y),
            Ok(None) => {
                errors.push(CellError::new(
                    Some(line),
                    Some(c),
                    codes::AMOUNT_REQUIRED,
                    format!(
                        "{} is empty: a reported row gives both amounts (0 when there is none)",
                        c.header_en()
                    ),
                    format!(
                        "“{}”未填写：报送的行两项金额都要填写，没有的填 0",
                        c.header_zh()
                    ),
                ));
                None
            }
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };
    let investment = required(Column::Investment, investment);
    let funds = required(Column::Funds, funds);
    if !errors.is_empty() {
        up.errors.extend(errors);
        return None;
    }
    Some(FilledRow {
        row: line,
        name: text(Column::Name).unwrap_or_default(),
        key,
        investment: investment?,
        funds: funds?,
        narrative,
        problems,
        correction_reason,
    })
}

fn cell_error(line: u32, c: Column, e: domain::ValueError) -> CellError {
    CellError::new(Some(line), Some(c), e.code.as_str(), e.en, e.zh)
}
