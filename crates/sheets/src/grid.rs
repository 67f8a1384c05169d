//! A sheet as a grid of cells, read from `.xlsx` (calamine) or `.csv`, whatever program wrote it.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use crate::SheetError;
use crate::layout::Column;

/// One cell's value as read. Numbers keep the reader's double only until they are turned into
/// their shortest decimal text ([`Cell::text`]); amounts are then parsed exactly from that.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
}

impl Cell {
    /// The cell as text: a string as is, a number as its shortest decimal form (`1234.5`; Rust
    /// never uses an exponent here), empty for an empty cell.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => format!("{n}"),
        }
    }

    /// Empty, or text of nothing but spaces (WPS leaves those behind).
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            Cell::Number(_) => false,
        }
    }
}

/// The cells of one sheet, by 0-based (row, column) from A1.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub sheet_name: String,
    pub rows: Vec<Vec<Cell>>,
}

impl Grid {
    pub fn get(&self, row: usize, col: usize) -> &Cell {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .unwrap_or(&Cell::Empty)
    }

    /// The header row: the first of the top rows that names both the project and the row key.
    pub fn header_row(&self) -> Option<usize> {
        self.rows.iter().take(20).position(|r| {
            let has = |c: Column| {
                r.iter()
                    .any(|cell| Column::from_header(&cell.text()) == Some(c))
            };
            has(Column::Name) && has(Column::Key)
        })
    }
}

/// What kind of file the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Xlsx,
    Csv,
}

impl FileKind {
    /// By the file's name, else by its first bytes (an .xlsx is a ZIP archive).
    pub fn detect(name: Option<&str>, bytes: &[u8]) -> FileKind {
        let lower = name.unwrap_or("").to_ascii_lowercase();
        if lower.ends_with(".csv") {
            FileKind::Csv
        } else if lower.ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04") {
            FileKind::Xlsx
        } else {
            FileKind::Csv
        }
    }
}

/// The sheet of `bytes` that holds the report (the first whose top rows carry its headers; the
/// first sheet when none does, so the caller can say the headers are missing).
pub fn read(kind: FileKind, bytes: &[u8]) -> Result<Grid, SheetError> {
    match kind {
        FileKind::Xlsx => read_xlsx(bytes),
        FileKind::Csv => Ok(read_csv(&decode_text(bytes))),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Grid, SheetError> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| SheetError::Unreadable(e.to_string()))?;
    let names = book.sheet_names().to_vec();
    let mut first = None;
    for name in names {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| SheetError::Unreadable(e.to_string()))?;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        if let Some((r0, c0)) = range.start() {
            let (r0, c0) = (r0 as usize, c0 as usize);
            rows.resize(r0, Vec::new());
            for row in range.rows() {
                let mut cells = vec![Cell::Empty; c0];
                cells.extend(row.iter().map(cell_of));
                rows.push(cells);
            }
        }
        let grid = Grid {
            sheet_name: name,
            rows,
        };
        if grid.header_row().is_some() {
            return Ok(grid);
        }
        first.get_or_insert(grid);
    }
    first.ok_or_else(|| SheetError::Unreadable("the workbook has no sheet".into()))
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(if *b { "TRUE" } else { "FALSE" }.into()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

/// UTF-8 (with or without the BOM Excel writes), else GB18030: what Excel and WPS on a Chinese
/// Windows write for "CSV" by default.
fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// RFC 4180: fields separated by commas, quoted with `"` when they hold commas, quotes or line
/// breaks (a quote doubled inside); CRLF or LF line ends.
fn read_csv(text: &str) -> Grid {
    let mut rows = Vec::new();
    let mut row: Vec<Cell> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let push = |row: &mut Vec<Cell>, field: &mut String| {
        let value = std::mem::take(field);
        row.push(if value.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(value)
        });
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => push(&mut row, &mut field),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                push(&mut row, &mut field);
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        push(&mut row, &mut field);
        rows.push(row);
    }
    Grid {
        sheet_name: "csv".into(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_quotes_commas_and_line_breaks() {
        let g = read_csv("a,\"b,c\",\"d \"\"e\"\"\"\r\n1,,\"x\ny\"\n");
        assert_eq!(g.rows.len(), 2);
        assert_eq!(g.get(0, 1), &Cell::Text("b,c".into()));
        assert_eq!(g.get(0, 2), &Cell::Text("d \"e\"".into()));
        assert_eq!(g.get(1, 1), &Cell::Empty);
        assert_eq!(g.get(1, 2), &Cell::Text("x\ny".into()));
    }

    #[test]
    fn text_is_utf8_with_or_without_bom_else_gb18030() {
        assert_eq!(decode_text("\u{feff}项目".as_bytes()), "项目");
        assert_eq!(decode_text("项目".as_bytes()), "项目");
        let (gbk, _, _) = encoding_rs::GB18030.encode("项目名称");
        assert_eq!(decode_text(&gbk), "项目名称");
    }

    #[test]
    fn numbers_read_back_as_their_shortest_decimal() {
        assert_eq!(Cell::Number(1234.5678).text(), "1234.5678");
        assert_eq!(Cell::Number(0.1).text(), "0.1");
        assert_eq!(Cell::Number(50.0).text(), "50");
        assert_eq!(Cell::Number(999_999_999.999_9).text(), "999999999.9999");
    }
}
