//! The monthly report template (月度投资填报表): one row per project that can report for the
//! period, reference columns locked, fill cells open and validated, a hidden key per row.

use domain::{Period, Yuan};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Formula,
    ProtectionOptions, Workbook, Worksheet,
};
use uuid::Uuid;

use crate::SheetError;
use crate::layout::{
    Column, FIRST_DATA_ROW, HEADER_ROW, INFO_ROW, INSTRUCTIONS_SHEET, REPORT_SHEET, Reference,
    RowKey, TITLE_ROW, period_zh, previous,
};

/// What a month's report already holds, when the period was reported before the template was
/// made: the fill cells start with it, so an edit shows as a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub investment: Yuan,
    pub funds: Yuan,
    pub narrative: Option<String>,
    pub problems: Option<String>,
}

/// One project's row.
#[derive(Debug, Clone)]
pub struct TemplateRow {
    pub project_id: Uuid,
    /// The version of the project's stream the row is made from (the upload's expected version).
    pub version: u64,
    pub reference: Reference,
    pub current: Option<Entry>,
}

/// The template of one unit for one period. Figures are given, never computed here.
#[derive(Debug, Clone)]
pub struct Template {
    /// The unit's slug (in every row key).
    pub unit: String,
    /// The unit's name (in the title).
    pub unit_name: String,
    pub period: Period,
    /// When the template was made, as shown in the info line (e.g. `2026-11-25 09:30 (UTC+8)`).
    pub made_at: String,
    pub rows: Vec<TemplateRow>,
}

impl Template {
    pub fn key(&self, row: &TemplateRow) -> RowKey {
        RowKey {
            unit: self.unit.clone(),
            project_id: row.project_id,
            period: self.period,
            version: row.version,
            digest: row.reference.digest(),
        }
    }
}

/// `1234.5678` 万元 as the number written into a cell. A display value only: the upload reads a
/// number cell back through its shortest decimal text and `Yuan::parse_wan`, which is exact for
/// every amount below 10⁹ 万元 (fewer than 15 significant digits).
pub(crate) fn wan_number(y: Yuan) -> f64 {
    y.to_wan_string().parse().unwrap_or(0.0)
}

/// The number format of amounts in 万元: two to four decimals, as typed.
pub(crate) const WAN_FORMAT: &str = "#,##0.00##";

struct Formats {
    title: Format,
    info: Format,
    header_ref: Format,
    header_fill: Format,
    text_ref: Format,
    amount_ref: Format,
    amount_fill: Format,
    text_fill: Format,
    key: Format,
}

fn formats() -> Formats {
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    Formats {
        title: Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        info: Format::new().set_font_size(10),
        header_ref: border(
            Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xD9D9D9)),
        ),
        header_fill: border(
            Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xFFF2CC)),
        ),
        text_ref: border(
            Format::new()
                .set_text_wrap()
                .set_align(FormatAlign::VerticalCenter),
        ),
        amount_ref: border(Format::new().set_num_format(WAN_FORMAT)),
        amount_fill: border(
            Format::new()
                .set_num_format(WAN_FORMAT)
                .set_unlocked()
                .set_background_color(Color::RGB(0xFFFBEA)),
        ),
        text_fill: border(
            Format::new()
                .set_text_wrap()
                .set_unlocked()
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xFFFBEA)),
        ),
        key: Format::new()
            .set_hidden()
            .set_font_color(Color::RGB(0x808080)),
    }
}

fn width(c: Column) -> f64 {
    match c {
        Column::Seq => 5.0,
        Column::Name => 28.0,
        Column::Code => 24.0,
        Column::Lead => 10.0,
        Column::Narrative | Column::Problems => 30.0,
        Column::CorrectionReason => 18.0,
        Column::Key => 60.0,
        _ => 13.0,
    }
}

/// The workbook, as `.xlsx` bytes.
pub fn write_template(t: &Template) -> Result<Vec<u8>, SheetError> {
    let mut book = Workbook::new();
    let f = formats();
    let sheet = book.add_worksheet();
    report_sheet(sheet, t, &f)?;
    let help = book.add_worksheet();
    instructions_sheet(help, t)?;
    Ok(book.save_to_buffer()?)
}

fn report_sheet(ws: &mut Worksheet, t: &Template, f: &Formats) -> Result<(), SheetError> {
    ws.set_name(REPORT_SHEET)?;
    let last_col = Column::Key.index();
    let last_visible = Column::CorrectionReason.index();
    ws.merge_range(
        TITLE_ROW,
        0,
        TITLE_ROW,
        last_visible,
        &format!(
            "{} {} 重点项目月度投资填报表",
            t.unit_name,
            period_zh(t.period)
        ),
        &f.title,
    )?;
    ws.set_row_height(TITLE_ROW, 30)?;
    let last = previous(t.period).map_or_else(String::new, period_zh);
    ws.merge_range(
        INFO_ROW,
        0,
        INFO_ROW,
        last_visible,
        &format!(
            "填报单位：{}（{}）  报表期：{}  制表时间：{}  参考数据：上月为 {last}，本年累计截至上月  金额单位：万元",
            t.unit_name, t.unit, t.period, t.made_at
        ),
        &f.info,
    )?;
    for c in Column::ALL {
        let header = if c.is_fill() {
            &f.header_fill
        } else {
            &f.header_ref
        };
        ws.write_string_with_format(HEADER_ROW, c.index(), c.header_zh(), header)?;
        ws.set_column_width(c.index(), width(c))?;
    }
    ws.set_row_height(HEADER_ROW, 45)?;
    for (i, row) in t.rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        let reference = &row.reference;
        ws.write_number_with_format(r, Column::Seq.index(), (i + 1) as f64, &f.text_ref)?;
        ws.write_string_with_format(r, Column::Name.index(), &reference.name, &f.text_ref)?;
        ws.write_string_with_format(
            r,
            Column::Code.index(),
            reference.code.as_deref().unwrap_or(""),
            &f.text_ref,
        )?;
        ws.write_string_with_format(
            r,
            Column::Lead.index(),
            &reference.lead_official,
            &f.text_ref,
        )?;
        let amounts = [
            (Column::LastInvestment, reference.last_investment),
            (Column::LastFunds, reference.last_funds),
            (Column::YtdInvestment, Some(reference.ytd_investment)),
            (Column::YtdFunds, Some(reference.ytd_funds)),
        ];
        for (c, v) in amounts {
            match v {
                Some(y) => {
                    ws.write_number_with_format(r, c.index(), wan_number(y), &f.amount_ref)?
                }
                None => ws.write_blank(r, c.index(), &f.amount_ref)?,
            };
        }
        let current = row.current.as_ref();
        for (c, v) in [
            (Column::Investment, current.map(|e| e.investment)),
            (Column::Funds, current.map(|e| e.funds)),
        ] {
            match v {
                Some(y) => {
                    ws.write_number_with_format(r, c.index(), wan_number(y), &f.amount_fill)?
                }
                None => ws.write_blank(r, c.index(), &f.amount_fill)?,
            };
        }
        for (c, v) in [
            (
                Column::Narrative,
                current.and_then(|e| e.narrative.as_deref()),
            ),
            (
                Column::Problems,
                current.and_then(|e| e.problems.as_deref()),
            ),
            (Column::CorrectionReason, None),
        ] {
            match v {
                Some(text) => ws.write_string_with_format(r, c.index(), text, &f.text_fill)?,
                None => ws.write_blank(r, c.index(), &f.text_fill)?,
            };
        }
        ws.write_string_with_format(r, Column::Key.index(), t.key(row).to_text(), &f.key)?;
    }
    if !t.rows.is_empty() {
        let last_row = FIRST_DATA_ROW + t.rows.len() as u32 - 1;
        for c in [Column::Investment, Column::Funds] {
            let cell = format!("{}{}", c.letter(), FIRST_DATA_ROW + 1);
            // Excel's own check as the clerk types (the upload checks again, exactly): a number
            // ≥ 0, below 10⁹ 万元, with at most four decimals.
            let rule = DataValidation::new()
                .allow_custom(Formula::new(format!(
                    "=AND(ISNUMBER({cell}),{cell}>=0,{cell}<1000000000,ROUND({cell}*10000,0)={cell}*10000)"
                )))
                .ignore_blank(true)
                .set_input_title("万元")?
                .set_input_message("填写本月金额（万元），不小于 0，最多 4 位小数；没有填 0。")?
                .set_error_title("金额格式不对")?
                .set_error_message(
                    "请填写不小于 0、最多 4 位小数的万元金额（例如 1234.5678）。\nAn amount in 万元, ≥ 0, at most 4 decimals.",
                )?
                .set_error_style(DataValidationErrorStyle::Stop);
            ws.add_data_validation(FIRST_DATA_ROW, c.index(), last_row, c.index(), &rule)?;
        }
        for c in [
            Column::Narrative,
            Column::Problems,
            Column::CorrectionReason,
        ] {
            let rule = DataValidation::new()
                .allow_text_length(rust_xlsxwriter::DataValidationRule::LessThanOrEqualTo(
                    domain::error::MAX_TEXT_CHARS as u32,
                ))
                .ignore_blank(true)
                .set_error_message(format!(
                    "最多 {} 个字。At most {} characters.",
                    domain::error::MAX_TEXT_CHARS,
                    domain::error::MAX_TEXT_CHARS
                ))?;
            ws.add_data_validation(FIRST_DATA_ROW, c.index(), last_row, c.index(), &rule)?;
        }
        ws.set_print_area(TITLE_ROW, 0, last_row, last_visible)?;
    }
    ws.set_column_hidden(last_col)?;
    // The header stays in view while scrolling, and the project name beside the fill cells.
    ws.set_freeze_panes(FIRST_DATA_ROW, Column::Name.index() + 1)?;
    ws.protect_with_options(&ProtectionOptions {
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    });
    ws.set_paper_size(9); // A4
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_footer("&C第 &P 页，共 &N 页");
    ws.set_active(true);
    Ok(())
}

fn instructions_sheet(ws: &mut Worksheet, t: &Template) -> Result<(), SheetError> {
    ws.set_name(INSTRUCTIONS_SHEET)?;
    let bold = Format::new().set_bold().set_font_size(14);
    let wrap = Format::new().set_text_wrap();
    ws.set_column_width(0, 110)?;
    ws.write_string_with_format(0, 0, "填报说明 / How to fill in this sheet", &bold)?;
    let lines = [
        format!(
            "1. 本表为 {}（{}）{} 的月度投资报表，每个可报送的项目（已开工、未终止）一行。",
            t.unit_name,
            t.unit,
            period_zh(t.period)
        ),
        "2. 只填写浅黄色单元格：本月完成投资（万元）、本月到位资金（万元）、形象进度、存在问题；灰色列为参考数据，已锁定，请勿修改。".into(),
        "3. 金额单位为万元，不小于 0，最多 4 位小数（精确到元）；可写千位分隔符和全角数字。两项金额都要填写，没有的填 0。".into(),
        "4. 不报送的项目整行留空即可。请勿增删行、调整列顺序，最后一列为隐藏的行键（项目、报表期和制表时的版本），请勿修改。".into(),
        "5. 本月已报送过的项目，表中已预填报送的数值；如需修改，改动数值并在“更正原因”列写明原因，上传后记为更正，原报送记录保留。".into(),
        "6. 上传：网页或 POST /files/monthly-report，或命令 taizhang excel import 文件名。任何一行有误则整表不写入，返回逐行逐列的错误和标注了错误单元格的工作簿；同一文件重复上传不会重复记录。".into(),
        "7. 制表后项目如有变动（他人报送、调整责任单位等），上传时会指出变动内容，请重新下载模板。".into(),
        String::new(),
        "1. One row per project of the unit that can report for the period (started, not abandoned).".into(),
        "2. Fill in only the light-yellow cells; grey columns are reference figures and are locked.".into(),
        "3. Amounts are in 万元 (10,000 yuan), ≥ 0, at most 4 decimals; give both amounts (0 if none).".into(),
        "4. Leave a row empty to skip that project. Do not add or move rows or columns; the hidden last column is the row key.".into(),
        "5. A month reported before shows its figures; change them and give a 更正原因 (correction reason) to correct it.".into(),
        "6. Upload: POST /files/monthly-report or `taizhang excel import FILE`. Any bad row records nothing; the answer lists every error and returns the sheet annotated. Uploading the same file again records nothing new.".into(),
        "7. A project that changed after the template was made is named on upload: download a fresh template.".into(),
    ];
    for (i, line) in lines.iter().enumerate() {
        ws.write_string_with_format(i as u32 + 2, 0, line, &wrap)?;
    }
    ws.set_paper_size(9);
    ws.set_landscape();
    Ok(())
}
