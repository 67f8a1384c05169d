//! Workbooks in and out (docs/excel.md).
//!
//! - [`template`]: the monthly report template of a unit for a period, from figures the caller
//!   gives (the API takes them from `crates/figures` and the projects' streams; nothing here
//!   computes a figure).
//! - [`grid`] and [`upload`]: a filled sheet (`.xlsx` from Excel, WPS or LibreOffice, or `.csv`)
//!   read back into typed rows, every problem named by row and column in English and Chinese.
//! - [`annotate`]: a refused sheet sent back with its bad cells marked.
//!
//! Pure: bytes in, bytes out, no I/O, no async, no store. What a row means for the ledger
//! (already reported, changed since the template, the project's unit) is decided by the caller
//! against the projects' state, and the rows are recorded through the API's batch.

pub mod annotate;
pub mod grid;
pub mod layout;
pub mod template;
pub mod upload;

pub use annotate::annotate;
pub use grid::{Cell, FileKind, Grid};
pub use layout::{Column, Reference, RowKey};
pub use template::{Entry, Template, TemplateRow, write_template};
pub use upload::{CellError, FilledRow, Upload, parse};

/// A workbook that cannot be written or read at all (a refused row is a [`CellError`]).
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the workbook could not be written: {0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
    #[error("the file is not a readable workbook: {0}")]
    Unreadable(String),
}

impl SheetError {
    /// The Chinese message, for people.
    pub fn message_zh(&self) -> String {
        match self {
            SheetError::Write(e) => format!("工作簿生成失败：{e}"),
            SheetError::Unreadable(e) => format!("文件不是可读取的 xlsx 或 csv 表格：{e}"),
        }
    }
}

/// Reads `bytes` (an `.xlsx` or `.csv` file; `name` helps tell which) into rows.
pub fn read_upload(name: Option<&str>, bytes: &[u8]) -> Result<Upload, SheetError> {
    let kind = FileKind::detect(name, bytes);
    Ok(parse(grid::read(kind, bytes)?))
}
