//! A refused sheet sent back: the same cells, the bad ones filled red with a note saying why
//! (Chinese, then English), and a sheet listing every error.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Color, Format, Note, Workbook};

use crate::SheetError;
use crate::grid::{Cell, Grid};
use crate::layout::Column;
use crate::upload::CellError;

/// The workbook of `grid` with `errors` marked (with none, the grid as a plain workbook). Rows and columns stay where they were, so the
/// clerk can fix this very file and upload it again (the key column stays hidden).
pub fn annotate(
    grid: &Grid,
    columns: &BTreeMap<Column, usize>,
    errors: &[CellError],
) -> Result<Vec<u8>, SheetError> {
    let mut book = Workbook::new();
    let plain = Format::new();
    let bad = Format::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_font_color(Color::RGB(0x9C0006));
    // (row, col) 0-based → the errors there.
    let mut marks: BTreeMap<(u32, u16), Vec<&CellError>> = BTreeMap::new();
    for e in errors {
        let Some(row) = e.row else { continue };
        let col = e
            .column
            .and_then(|c| columns.get(&c).copied())
            .or_else(|| columns.get(&Column::Name).copied())
            .unwrap_or(0);
        marks.entry((row - 1, col as u16)).or_default().push(e);
    }
    let ws = book.add_worksheet();
    ws.set_name(if grid.sheet_name.is_empty() || grid.sheet_name == "csv" {
        crate::layout::REPORT_SHEET
    } else {
        &grid.sheet_name
    })?;
    for (c, i) in columns {
        let width = if *c == Column::Name || c.is_fill() && !c.is_amount() {
            28.0
        } else {
            14.0
        };
        ws.set_column_width(*i as u16, width)?;
    }
    let last_row = grid.rows.len().max(
        marks
            .keys()
            .map(|(r, _)| *r as usize + 1)
            .max()
            .unwrap_or(0),
    );
    for r in 0..last_row {
        let width = grid.rows.get(r).map_or(0, Vec::len);
        let marked_cols = marks
            .range((r as u32, 0)..=(r as u32, u16::MAX))
            .map(|((_, c), _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        for c in 0..width.max(marked_cols) {
            let cell = grid.get(r, c);
            let here = marks.get(&(r as u32, c as u16));
            let format = if here.is_some() { &bad } else { &plain };
            match cell {
                Cell::Empty => {
                    if here.is_some() {
                        ws.write_blank(r as u32, c as u16, format)?;
                    }
                }
                Cell::Text(s) => {
                    ws.write_string_with_format(r as u32, c as u16, s, format)?;
                }
                Cell::Number(n) => {
                    ws.write_number_with_format(r as u32, c as u16, *n, format)?;
                }
            }
            if let Some(list) = here {
                let text = list
                    .iter()
                    .map(|e| format!("{}\n{}", e.message_zh, e.message_en))
                    .collect::<Vec<_>>()
                    .join("\n\n");
                let note = Note::new(text)
                    .set_author("taizhang")
                    .set_width(360)
                    .set_height(160);
                ws.insert_note(r as u32, c as u16, &note)?;
            }
        }
    }
    if let Some(&key) = columns.get(&Column::Key) {
        ws.set_column_hidden(key as u16)?;
    }
    if errors.is_empty() {
        return Ok(book.save_to_buffer()?);
    }
    let list = book.add_worksheet();
    list.set_name("错误清单")?;
    let bold = Format::new().set_bold();
    for (i, h) in ["行 row", "列 column", "代码 code", "说明", "message"]
        .iter()
        .enumerate()
    {
        list.write_string_with_format(0, i as u16, *h, &bold)?;
    }
    list.set_column_width(1, 28)?;
    list.set_column_width(2, 28)?;
    list.set_column_width(3, 60)?;
    list.set_column_width(4, 60)?;
    for (i, e) in errors.iter().enumerate() {
        let r = i as u32 + 1;
        if let Some(row) = e.row {
            list.write_number(r, 0, f64::from(row))?;
        }
        if let Some(c) = e.column {
            list.write_string(r, 1, format!("{} {}", c.letter(), c.header_zh()))?;
        }
        list.write_string(r, 2, &e.code)?;
        list.write_string(r, 3, &e.message_zh)?;
        list.write_string(r, 4, &e.message_en)?;
    }
    Ok(book.save_to_buffer()?)
}
