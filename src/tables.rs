//! Figures as people open them: terminal tables aligned by display width
//! (a Chinese character takes two columns), the CSV columns' Chinese
//! headings, CSV for Excel on a Chinese Windows (UTF-8 with a byte-order
//! mark, Chinese headings), and workbooks (`rust_xlsxwriter`). Shared by
//! `greenwave stats` and `greenwave city report`.

use unicode_width::UnicodeWidthStr;

/// Rows of cells as a table: the first column left-aligned, the others
/// right-aligned, columns two spaces apart, by display width.
pub fn aligned(grid: &[Vec<String>]) -> String {
    let cols = grid.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            grid.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in grid {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i] - c.width());
                if i == 0 {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
                }
            })
            .collect();
        out += line.join("  ").trim_end();
        out.push('\n');
    }
    out
}

/// The Chinese heading of a CSV column of the statistics (`greenwave
/// stats`, the daily export) or the city report; the name itself when
/// there is none.
pub fn heading(column: &str) -> &str {
    HEADINGS
        .iter()
        .find(|(c, _)| *c == column)
        .map_or(column, |(_, h)| h)
}

const HEADINGS: [(&str, &str); 45] = [
    ("hall", "大厅"),
    ("day", "日期"),
    ("group", "分组方式"),
    ("key", "分组"),
    ("issued", "取号"),
    ("priority", "绿波"),
    ("served", "办结"),
    ("no_show", "过号"),
    ("transferred", "转办"),
    ("cancelled", "撤销"),
    ("expired", "过期"),
    ("priority_share", "绿波占比"),
    ("wait_mean_s", "平均等候(秒)"),
    ("wait_p50_s", "等候中位数(秒)"),
    ("wait_p90_s", "等候P90(秒)"),
    ("wait_max_s", "最长等候(秒)"),
    ("service_mean_s", "平均办理(秒)"),
    ("service_p50_s", "办理中位数(秒)"),
    ("service_p90_s", "办理P90(秒)"),
    ("service_max_s", "最长办理(秒)"),
    ("priority_served", "绿波办结"),
    ("cases", "协办"),
    ("cases_closed", "协办结案"),
    ("policies_explained", "讲解政策"),
    ("ratings", "录入评价"),
    ("satisfied", "录入满意"),
    ("fairly_satisfied", "录入基本满意"),
    ("dissatisfied", "录入不满意"),
    ("satisfaction_rate", "录入满意率"),
    ("by_id_card", "身份证识别"),
    ("by_priority_card", "绿波卡识别"),
    ("by_manual", "人工核验"),
    ("resident_ratings", "群众评价"),
    ("resident_very_satisfied", "非常满意"),
    ("resident_satisfied", "满意"),
    ("resident_fairly_satisfied", "基本满意"),
    ("resident_dissatisfied", "不满意"),
    ("resident_very_dissatisfied", "非常不满意"),
    ("resident_satisfaction_rate", "群众满意率"),
    ("waiting_at_end", "时末等候"),
    ("resident_satisfaction", "群众满意率"),
    ("staff_ratings", "录入评价"),
    ("wait_mean_min", "平均等候(分)"),
    ("wait_max_min", "最长等候(分)"),
    ("service_mean_min", "平均办理(分)"),
];

/// CSV text for Excel on a Chinese Windows: a UTF-8 byte-order mark, the
/// header line's columns as their Chinese headings, the rest unchanged.
pub fn excel_csv(csv: &str) -> String {
    let (header, rest) = csv.split_once('\n').unwrap_or((csv, ""));
    let header: Vec<&str> = header
        .trim_end_matches('\r')
        .split(',')
        .map(heading)
        .collect();
    format!("\u{feff}{}\n{rest}", header.join(","))
}

/// One sheet of a workbook: its name, a title line, and a CSV whose
/// header becomes Chinese headings and whose numbers stay numbers.
pub struct Sheet<'a> {
    /// The sheet's tab (at most 31 characters).
    pub name: &'a str,
    /// The first line (hall, period).
    pub title: &'a str,
    /// The figures as CSV with machine headers.
    pub csv: &'a str,
}

/// A workbook of `sheets`.
pub fn workbook(sheets: &[Sheet<'_>]) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for s in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(s.name)?;
        sheet.write_string_with_format(0, 0, s.title, &bold)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(s.csv.as_bytes());
        for (i, record) in reader.records().enumerate() {
            let record = record?;
            let row = 2 + i as u32;
            for (c, cell) in record.iter().enumerate() {
                let col = c as u16;
                if i == 0 {
                    sheet.write_string_with_format(row, col, heading(cell), &bold)?;
                } else if let (true, Ok(n)) = (c > 0, cell.parse::<f64>()) {
                    sheet.write_number(row, col, n)?;
                } else {
                    sheet.write_string(row, col, cell)?;
                }
            }
        }
        sheet.set_column_width(0, 16)?;
    }
    Ok(book.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the 合计 row and the Chinese headers were two columns
    /// off, padded by characters instead of display width.
    #[test]
    fn chinese_cells_are_aligned_by_display_width() {
        let grid = vec![
            vec!["分组".to_string(), "取号".to_string()],
            vec!["2026-11-30".to_string(), "12".to_string()],
            vec!["合计".to_string(), "1234".to_string()],
        ];
        let t = aligned(&grid);
        let ends: Vec<usize> = t.lines().map(UnicodeWidthStr::width).collect();
        assert_eq!(ends, vec![16, 16, 16], "{t}");
    }

    #[test]
    fn excel_csv_starts_with_a_bom_and_chinese_headings() {
        let out = excel_csv("key,issued,priority\n合计,3,1\n");
        assert_eq!(out, "\u{feff}分组,取号,绿波\n合计,3,1\n");
    }
}
