//! The template read back by a real reader (calamine), filled the way a clerk does, and re-saved
//! by another program (LibreOffice, headless) as .xlsx and as .csv: the rows come back the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use domain::{Period, Yuan};
use sheets::grid::{self, Cell, FileKind};
use sheets::layout::{Column, FIRST_DATA_ROW, REPORT_SHEET};
use sheets::upload::codes;
use sheets::{Entry, Reference, Template, TemplateRow, read_upload, write_template};
use uuid::Uuid;

fn yuan(v: i64) -> Yuan {
    Yuan::new(v).unwrap()
}

fn template() -> Template {
    let row = |n: u128, name: &str, current: Option<Entry>| TemplateRow {
        project_id: Uuid::from_u128(n),
        version: 10 + n as u64,
        reference: Reference {
            name: name.into(),
            code: Some(format!("2601-341100-04-01-00000{n}")),
            lead_official: "王副县长".into(),
            last_investment: Some(yuan(12_345_678)),
            last_funds: if n == 2 { None } else { Some(yuan(5_000_000)) },
            ytd_investment: yuan(1_000_000_000 + n as i64),
            ytd_funds: yuan(0),
        },
        current,
    };
    Template {
        unit: "dev-zone".into(),
        unit_name: "经济开发区".into(),
        period: Period::new(2026, 11).unwrap(),
        made_at: "2026-11-25 09:30 (UTC+8)".into(),
        rows: vec![
            row(1, "新能源电池项目", None),
            row(2, "氟化工产业园", None),
            row(
                3,
                "标准化厂房",
                Some(Entry {
                    investment: yuan(12_345_678),
                    funds: yuan(0),
                    narrative: Some("主体封顶".into()),
                    problems: None,
                }),
            ),
        ],
    }
}

/// The template's report sheet as a grid, through calamine.
fn template_grid() -> grid::Grid {
    let bytes = write_template(&template()).unwrap();
    let g = grid::read(FileKind::Xlsx, &bytes).unwrap();
    assert_eq!(g.sheet_name, REPORT_SHEET);
    g
}

fn set(g: &mut grid::Grid, row: usize, col: Column, cell: Cell) {
    let c = col.index() as usize;
    let r = &mut g.rows[row];
    if r.len() <= c {
        r.resize(c + 1, Cell::Empty);
    }
    r[c] = cell;
}

/// Filled as a clerk types: a number typed as text with full-width digits and a full-width
/// comma, a plain number, trailing spaces, and one project left empty.
fn filled() -> grid::Grid {
    let mut g = template_grid();
    let first = FIRST_DATA_ROW as usize;
    set(
        &mut g,
        first,
        Column::Investment,
        Cell::Text("１，２３４.５ ".into()),
    );
    set(&mut g, first, Column::Funds, Cell::Number(600.25));
    set(
        &mut g,
        first,
        Column::Narrative,
        Cell::Text("厂房主体完工  ".into()),
    );
    // The third row keeps its pre-filled figures and gains a correction.
    set(&mut g, first + 2, Column::Funds, Cell::Text("10".into()));
    set(
        &mut g,
        first + 2,
        Column::CorrectionReason,
        Cell::Text("漏报到位资金".into()),
    );
    // An empty row below the data, as spreadsheet programs leave.
    g.rows.push(vec![Cell::Text("  ".into())]);
    g
}

fn to_xlsx(g: &grid::Grid) -> Vec<u8> {
    let up = sheets::parse(g.clone());
    sheets::annotate(g, &up.columns, &[]).unwrap()
}

fn check_filled(up: &sheets::Upload) {
    assert!(up.errors.is_empty(), "{:#?}", up.errors);
    assert_eq!(up.unit.as_deref(), Some("dev-zone"));
    assert_eq!(up.period, Some(Period::new(2026, 11).unwrap()));
    assert_eq!(up.rows.len(), 2, "{:#?}", up.rows);
    let a = &up.rows[0];
    assert_eq!(a.row, FIRST_DATA_ROW + 1);
    assert_eq!(a.key.project_id, Uuid::from_u128(1));
    assert_eq!(a.key.version, 11);
    assert_eq!(a.investment, yuan(12_345_000));
    assert_eq!(a.funds, yuan(6_002_500));
    assert_eq!(a.narrative.as_deref(), Some("厂房主体完工"));
    assert_eq!(a.problems, None);
    let c = &up.rows[1];
    assert_eq!(c.key.project_id, Uuid::from_u128(3));
    assert_eq!(c.investment, yuan(12_345_678));
    assert_eq!(c.funds, yuan(100_000));
    assert_eq!(c.narrative.as_deref(), Some("主体封顶"));
    assert_eq!(c.correction_reason.as_deref(), Some("漏报到位资金"));
    assert_eq!(up.unfilled, vec![FIRST_DATA_ROW + 2]);
}

#[test]
fn an_untouched_template_reads_back_with_nothing_to_report_but_the_prefilled_row() {
    let up = sheets::parse(template_grid());
    assert!(up.errors.is_empty(), "{:#?}", up.errors);
    assert_eq!(up.unfilled, vec![FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 2]);
    assert_eq!(up.rows.len(), 1);
    assert_eq!(up.rows[0].investment, yuan(12_345_678));
    assert_eq!(up.rows[0].correction_reason, None);
}

#[test]
fn a_filled_sheet_reads_back_exactly() {
    check_filled(&read_upload(Some("report.xlsx"), &to_xlsx(&filled())).unwrap());
}

#[test]
fn every_bad_cell_is_named_with_its_row_and_column() {
    let mut g = filled();
    let first = FIRST_DATA_ROW as usize;
    set(
        &mut g,
        first + 1,
        Column::Investment,
        Cell::Text("12.34567".into()),
    );
    set(
        &mut g,
        first + 1,
        Column::Name,
        Cell::Text("改名项目".into()),
    );
    set(&mut g, first, Column::Funds, Cell::Empty);
    set(&mut g, first + 2, Column::YtdFunds, Cell::Number(1.0));
    let up = sheets::parse(g.clone());
    let found: Vec<(Option<u32>, Option<Column>, &str)> = up
        .errors
        .iter()
        .map(|e| (e.row, e.column, e.code.as_str()))
        .collect();
    let r = |i: u32| Some(FIRST_DATA_ROW + 1 + i);
    assert_eq!(
        found,
        vec![
            (r(0), Some(Column::Funds), codes::AMOUNT_REQUIRED),
            (r(1), Some(Column::Name), codes::REFERENCE_EDITED),
            (r(1), Some(Column::Investment), "MONEY_INVALID"),
            (r(1), Some(Column::Funds), codes::AMOUNT_REQUIRED),
            (r(2), Some(Column::YtdFunds), codes::REFERENCE_EDITED),
        ]
    );
    assert!(up.rows.is_empty());
    for e in &up.errors {
        assert!(!e.message_en.is_empty() && !e.message_zh.is_empty());
    }
    // The annotated workbook carries the bad cells' notes and the list of errors.
    let book = sheets::annotate(&up.grid, &up.columns, &up.errors).unwrap();
    let back = grid::read(FileKind::Xlsx, &book).unwrap();
    assert_eq!(
        back.get(first + 1, Column::Investment.index() as usize),
        &Cell::Text("12.34567".into())
    );
    let text = String::from_utf8_lossy(&unzip_entry(&book, "xl/comments1.xml")).into_owned();
    assert!(text.contains("小数超过 4 位"), "{text}");
}

#[test]
fn a_sheet_that_is_not_the_template_is_refused_as_a_whole() {
    let up = read_upload(Some("x.csv"), "a,b\n1,2\n".as_bytes()).unwrap();
    assert_eq!(up.errors.len(), 1);
    assert_eq!(up.errors[0].code, codes::NOT_A_TEMPLATE);
    assert!(read_upload(Some("x.xlsx"), b"PK\x03\x04 not a zip").is_err());
}

/// LibreOffice re-saves the filled sheet, as .xlsx and as .csv (UTF-8): the same rows.
#[test]
fn a_sheet_re_saved_by_libreoffice_reads_back_the_same() {
    let dir = std::env::temp_dir().join(format!("tz_sheets_{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("filled.xlsx");
    std::fs::write(&source, to_xlsx(&filled())).unwrap();
    for (target, filter, name) in [
        ("xlsx", "xlsx:Calc MS Excel 2007 XML", "resaved/filled.xlsx"),
        (
            "csv",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "resaved/filled.csv",
        ),
    ] {
        let _ = target;
        let out = Command::new("libreoffice")
            .arg(format!("-env:UserInstallation=file://{}/profile", dir.display()))
            .args(["--headless", "--convert-to", filter, "--outdir"])
            .arg(dir.join("resaved"))
            .arg(&source)
            .output()
            .expect("libreoffice runs (apt-get install libreoffice-calc-nogui; scripts/test installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| {
            panic!(
                "{name}: {e}; libreoffice said {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        check_filled(&read_upload(Some(name), &bytes).unwrap());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// One part of the .xlsx (a ZIP archive) as text.
fn unzip_entry(book: &[u8], name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
    let mut out = Vec::new();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// What Excel and WPS enforce and print comes from the sheet's XML: protection, validation of
/// the amount cells, the frozen header, A4 landscape, the hidden key column, unlocked fill cells.
#[test]
fn the_template_is_protected_validated_frozen_and_printable() {
    let book = write_template(&template()).unwrap();
    let sheet = String::from_utf8(unzip_entry(&book, "xl/worksheets/sheet1.xml")).unwrap();
    for needle in [
        "<sheetProtection",
        r#"<pane xSplit="2" ySplit="3""#,
        r#"paperSize="9""#,
        r#"orientation="landscape""#,
        r#"hidden="1""#,
        "ROUND(I4*10000,0)=I4*10000",
        r#"sqref="I4:I6""#,
        r#"sqref="J4:J6""#,
    ] {
        assert!(sheet.contains(needle), "{needle} not in the sheet XML");
    }
    let styles = String::from_utf8(unzip_entry(&book, "xl/styles.xml")).unwrap();
    assert!(styles.contains(r#"locked="0""#), "fill cells are unlocked");
    let names = calamine_sheet_names(&book);
    assert_eq!(names, vec![REPORT_SHEET.to_owned(), "填报说明".to_owned()]);
    let g = grid::read(FileKind::Xlsx, &book).unwrap();
    assert_eq!(
        g.get(0, 0),
        &Cell::Text("经济开发区 2026年11月 重点项目月度投资填报表".into())
    );
}

fn calamine_sheet_names(book: &[u8]) -> Vec<String> {
    use calamine::Reader;
    let wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(book.to_vec())).unwrap();
    wb.sheet_names().to_vec()
}
