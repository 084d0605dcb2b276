//! Golden bytes and decode round trips of the ticket encoder.

mod printer_support;

use greenwave_drivers::printer::{
    encode_ticket, render_text, validate_layout, CutMode, LayoutError, PaperWidth, PrinterOptions,
    TicketLayout,
};
use printer_support::{decode, has_id_number, hex, Align, Line, Paper};
use proptest::prelude::*;

/// The kiosk's banner for priority tickets (the driver prints whatever
/// banner it is given).
const PRIORITY_BANNER: &str = "优先服务 · 绿波通道";

fn normal_ticket() -> TicketLayout {
    TicketLayout {
        hall_name: "朝阳区政务服务中心".into(),
        banner: None,
        number: "A031".into(),
        service_name: "社保业务".into(),
        ahead: "前面还有 3 人".into(),
        issued_at: "2026-11-23 09:41".into(),
        qr_payload: None,
        notices: vec!["咨询热线 12345".into()],
        ..TicketLayout::default()
    }
}

fn priority_ticket() -> TicketLayout {
    TicketLayout {
        hall_name: "朝阳区政务服务中心".into(),
        banner: Some(PRIORITY_BANNER.into()),
        number: "GA012".into(),
        service_name: "低保救助申请".into(),
        ahead: "前面还有 0 人".into(),
        issued_at: "2026-11-23 09:41".into(),
        qr_payload: Some("https://gw.example.cn/q/GA012?h=07".into()),
        notices: vec!["绿波通道热线 0571-12345".into()],
        ..TicketLayout::default()
    }
}

/// A priority ticket with everything the kiosk prints on one, worded as
/// the kiosk words it.
fn full_priority_ticket() -> TicketLayout {
    TicketLayout {
        details: vec![
            "预计等候 10–20 分钟".into(),
            "请留意 1、2 号窗口叫号".into(),
            "请携带：身份证、户口簿、低保证".into(),
        ],
        qr_caption: Some("扫码查看排队进度".into()),
        notices: vec![
            "过号请在 15 分钟内到窗口重新排队".into(),
            "当日有效".into(),
            "绿波通道热线 0571-12345".into(),
        ],
        ..priority_ticket()
    }
}

/// Columns a decoded line takes on the paper: its display width (ASCII
/// one column, anything else two) times its character width.
fn printed_columns(line: &Line) -> usize {
    let w: usize = line
        .text
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum();
    w * usize::from(line.width)
}

/// The decoded paper, one row per printed line: size, columns taken out of
/// the paper's, reverse video, the text; the QR code where it is printed,
/// and the cut.
fn paper_text(paper: &Paper, paper_width: PaperWidth) -> String {
    let cols = paper_width.columns();
    let mut rows = Vec::new();
    for (i, line) in paper.lines.iter().enumerate() {
        for qr in paper.qr_codes.iter().filter(|q| q.after_lines == i) {
            rows.push(format!("QR           {}", qr.payload));
        }
        rows.push(
            format!(
                "{}x{} {:>2}/{cols} {:<7} {}",
                line.width,
                line.height,
                printed_columns(line),
                if line.reverse { "reverse" } else { "" },
                line.text
            )
            .trim_end()
            .to_owned(),
        );
    }
    let cut = paper.cut.expect("the ticket is cut");
    rows.push(format!(
        "cut          {}, feed {}",
        if cut.full { "full" } else { "partial" },
        cut.feed
    ));
    rows.join("\n") + "\n"
}

/// Every decoded line fits the paper at its character size.
fn assert_fits(paper: &Paper, paper_width: PaperWidth) {
    for line in &paper.lines {
        assert!(
            printed_columns(line) <= paper_width.columns(),
            "{:?} at {}x{} too wide for {} columns",
            line.text,
            line.width,
            line.height,
            paper_width.columns()
        );
        assert!(!line.text.contains('\u{FFFD}'));
    }
}

/// All the printed text with the line breaks (and spaces) taken out: a
/// paragraph wrapped over several lines is found whole in it.
fn run_together(paper: &Paper) -> String {
    paper.texts().concat().replace(' ', "")
}

fn options(paper: PaperWidth) -> PrinterOptions {
    PrinterOptions {
        paper,
        ..PrinterOptions::default()
    }
}

// GB18030 below was produced with `iconv -t GB18030`, independently of the encoder.
const GOLDEN_NORMAL_58: &str = "
    1B 40 | 1C 26 | 1B 61 01
    1D 21 11 | B3 AF D1 F4 C7 F8 D5 FE CE F1 0A B7 FE CE F1 D6 D0 D0 C4 0A | 0A
    1D 21 11 | C9 E7 B1 A3 D2 B5 CE F1 0A
    1D 21 33 | 41 30 33 31 0A
    1D 21 11 | C7 B0 C3 E6 BB B9 D3 D0 20 33 20 C8 CB 0A
    1D 21 00 | 32 30 32 36 2D 31 31 2D 32 33 20 30 39 3A 34 31 0A
    0A
    1D 21 00 | D7 C9 D1 AF C8 C8 CF DF 20 31 32 33 34 35 0A
    1C 2E | 1D 56 42 30";

const GOLDEN_PRIORITY_80: &str = "
    1B 40 | 1C 26 | 1B 61 01
    1D 21 11 | B3 AF D1 F4 C7 F8 D5 FE CE F1 B7 FE CE F1 D6 D0 D0 C4 0A | 0A
    1D 42 01 | 1D 21 11 | D3 C5 CF C8 B7 FE CE F1 20 A1 A4 20 C2 CC B2 A8 CD A8 B5 C0 0A | 1D 42 00
    1D 21 11 | B5 CD B1 A3 BE C8 D6 FA C9 EA C7 EB 0A
    1D 21 33 | 47 41 30 31 32 0A
    1D 21 11 | C7 B0 C3 E6 BB B9 D3 D0 20 30 20 C8 CB 0A
    1D 21 00 | 32 30 32 36 2D 31 31 2D 32 33 20 30 39 3A 34 31 0A
    0A
    1D 28 6B 04 00 31 41 32 00
    1D 28 6B 03 00 31 43 06
    1D 28 6B 03 00 31 45 31
    1D 28 6B 25 00 31 50 30
      68 74 74 70 73 3A 2F 2F 67 77 2E 65 78 61 6D 70 6C 65 2E 63 6E 2F 71 2F 47 41 30 31 32 3F 68 3D 30 37
    1D 28 6B 03 00 31 51 30
    0A
    1D 21 00 | C2 CC B2 A8 CD A8 B5 C0 C8 C8 CF DF 20 30 35 37 31 2D 31 32 33 34 35 0A
    1C 2E | 1D 56 42 30";

#[test]
fn golden_normal_ticket_58mm() {
    let bytes = encode_ticket(&normal_ticket(), &options(PaperWidth::Mm58));
    assert_eq!(bytes, hex(GOLDEN_NORMAL_58));
}

#[test]
fn golden_priority_ticket_80mm() {
    let bytes = encode_ticket(&priority_ticket(), &options(PaperWidth::Mm80));
    assert_eq!(bytes, hex(GOLDEN_PRIORITY_80));
}

#[test]
fn normal_ticket_reads_right() {
    let paper = decode(&encode_ticket(&normal_ticket(), &options(PaperWidth::Mm58))).unwrap();
    assert!(paper.initialised);
    assert_eq!(
        paper.texts(),
        vec![
            "朝阳区政务",
            "服务中心",
            "社保业务",
            "A031",
            "前面还有 3 人",
            "2026-11-23 09:41",
            "咨询热线 12345"
        ]
    );
    assert!(paper
        .lines
        .iter()
        .all(|l| l.align == Align::Centre && !l.reverse));
    let number = paper.line("A031").unwrap();
    assert_eq!((number.width, number.height), (4, 4));
    let hall = paper.line("朝阳区政务").unwrap();
    assert_eq!((hall.width, hall.height), (2, 2), "the hall at double size");
    assert!(
        !paper.everything().contains("优先"),
        "no banner on a normal ticket"
    );
    assert!(paper.qr_codes.is_empty());
    let cut = paper.cut.unwrap();
    assert!(!cut.full);
    assert!(!has_id_number(&paper.everything()));
}

#[test]
fn priority_ticket_reads_right() {
    let paper = decode(&encode_ticket(
        &priority_ticket(),
        &options(PaperWidth::Mm80),
    ))
    .unwrap();
    let banner = paper.line(PRIORITY_BANNER).expect("banner printed");
    assert!(banner.reverse);
    assert_eq!((banner.width, banner.height), (2, 2));
    assert_eq!(paper.line("优先服务 · 绿波通道"), Some(banner));
    let number = paper.line("GA012").unwrap();
    assert_eq!((number.width, number.height), (4, 4));
    assert!(!number.reverse);
    assert!(paper.line("前面还有 0 人").is_some());
    assert_eq!(paper.qr_codes.len(), 1);
    let qr = &paper.qr_codes[0];
    assert_eq!(qr.payload, "https://gw.example.cn/q/GA012?h=07");
    assert_eq!((qr.model, qr.module_size, qr.error_correction), (2, 6, 'M'));
    assert_eq!(paper.texts().last(), Some(&"绿波通道热线 0571-12345"));
    assert!(!has_id_number(&paper.everything()));
}

#[test]
fn banner_falls_back_to_double_height_on_58mm() {
    let paper = decode(&encode_ticket(
        &priority_ticket(),
        &options(PaperWidth::Mm58),
    ))
    .unwrap();
    let banner = paper.line(PRIORITY_BANNER).expect("banner on one line");
    assert_eq!((banner.width, banner.height), (1, 2));
}

#[test]
fn full_cut_and_feed_are_configurable() {
    let opts = PrinterOptions {
        cut: CutMode::Full,
        feed_before_cut: 80,
        ..options(PaperWidth::Mm80)
    };
    let bytes = encode_ticket(&normal_ticket(), &opts);
    assert_eq!(&bytes[bytes.len() - 4..], &[0x1D, 0x56, 0x41, 80]);
    let cut = decode(&bytes).unwrap().cut.unwrap();
    assert!(cut.full);
    assert_eq!(cut.feed, 80);
}

#[test]
fn long_lines_wrap_by_display_width_without_splitting_characters() {
    let layout = TicketLayout {
        hall_name: "杭州市西湖区文新街道便民服务中心第二办事大厅East Wing".into(),
        service_name: "城乡居民最低生活保障及特困人员救助供养申请".into(),
        ..full_priority_ticket()
    };
    for paper_width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let paper = decode(&encode_ticket(&layout, &options(paper_width))).unwrap();
        assert_fits(&paper, paper_width);
        let hall: String = paper
            .lines
            .iter()
            .take_while(|l| !l.text.is_empty())
            .inspect(|l| assert_eq!((l.width, l.height), (2, 2), "{:?}", l.text))
            .map(|l| l.text.replace(' ', ""))
            .collect();
        assert_eq!(
            hall,
            layout.hall_name.replace(' ', ""),
            "the hall's name whole"
        );
    }
}

#[test]
fn long_notices_and_documents_wrap_and_are_never_cut() {
    let documents = "请携带：身份证、户口簿、低保证、残疾人证、近三个月收入证明、\
        居住证明（租房合同或房产证）、银行卡、一寸免冠照片两张";
    let notices = [
        "请留意大厅显示屏与语音叫号，过号请在 15 分钟内到窗口重新排队，\
         逾时请重新取号；陪同人员请在等候区就座。",
        "咨询热线 0571-87654321，投诉监督电话 12345，工作时间 9:00–17:00",
    ];
    let layout = TicketLayout {
        details: vec![documents.into()],
        notices: notices.iter().map(|n| n.to_string()).collect(),
        ..full_priority_ticket()
    };
    for paper_width in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let paper = decode(&encode_ticket(&layout, &options(paper_width))).unwrap();
        assert_fits(&paper, paper_width);
        let all = run_together(&paper);
        for paragraph in std::iter::once(documents).chain(notices) {
            assert!(
                all.contains(&paragraph.replace(' ', "")),
                "{paragraph:?} cut on {} columns:\n{}",
                paper_width.columns(),
                paper.everything()
            );
        }
        assert!(!paper.everything().contains('…'), "{}", paper.everything());
        let documents_lines = paper
            .texts()
            .into_iter()
            .skip_while(|t| !t.starts_with("请携带"))
            .take_while(|t| !t.starts_with("2026"))
            .count();
        assert!(documents_lines >= 2, "the documents wrap");
        assert!(
            paper
                .texts()
                .iter()
                .all(|t| !t.starts_with(['、', '，', '；', '。'])),
            "a line begins with a comma:\n{}",
            paper.everything()
        );
    }
}

#[test]
fn a_full_priority_ticket_58mm() {
    let paper = decode(&encode_ticket(
        &full_priority_ticket(),
        &options(PaperWidth::Mm58),
    ))
    .unwrap();
    assert_fits(&paper, PaperWidth::Mm58);
    insta::assert_snapshot!(
        "full_priority_ticket_58mm",
        paper_text(&paper, PaperWidth::Mm58)
    );
}

#[test]
fn a_full_priority_ticket_80mm() {
    let paper = decode(&encode_ticket(
        &full_priority_ticket(),
        &options(PaperWidth::Mm80),
    ))
    .unwrap();
    assert_fits(&paper, PaperWidth::Mm80);
    insta::assert_snapshot!(
        "full_priority_ticket_80mm",
        paper_text(&paper, PaperWidth::Mm80)
    );
}

#[test]
fn the_qr_caption_goes_with_the_qr_code() {
    let paper = decode(&encode_ticket(
        &full_priority_ticket(),
        &options(PaperWidth::Mm58),
    ))
    .unwrap();
    let qr = &paper.qr_codes[0];
    assert_eq!(
        paper.lines[qr.after_lines].text, "扫码查看排队进度",
        "right under it"
    );
    for qr_payload in [
        None,
        Some("https://gw.example.cn/q?id=110105194912310021".into()),
    ] {
        let layout = TicketLayout {
            qr_payload,
            ..full_priority_ticket()
        };
        let paper = decode(&encode_ticket(&layout, &options(PaperWidth::Mm58))).unwrap();
        assert!(paper.qr_codes.is_empty());
        assert!(
            !paper.everything().contains("扫码"),
            "no QR code, no caption"
        );
        assert!(paper.line("当日有效").is_some(), "the rest is printed");
    }
}

#[test]
fn an_id_number_is_refused_and_never_printed() {
    for (field, layout) in [
        (
            "details",
            TicketLayout {
                details: vec!["预计等候 10 分钟以内".into(), "11010519491231002X".into()],
                ..full_priority_ticket()
            },
        ),
        (
            "qr_caption",
            TicketLayout {
                qr_caption: Some("110105194912310021".into()),
                ..full_priority_ticket()
            },
        ),
    ] {
        assert_eq!(
            validate_layout(&layout),
            Err(LayoutError::PersonalData { field })
        );
        let paper = decode(&encode_ticket(&layout, &options(PaperWidth::Mm58))).unwrap();
        assert!(!has_id_number(&paper.everything()));
    }
    assert_eq!(validate_layout(&full_priority_ticket()), Ok(()));
    let layout = TicketLayout {
        notices: vec!["身份证 11010519491231002X".into()],
        qr_payload: Some("https://gw.example.cn/q?id=110105194912310021".into()),
        ..normal_ticket()
    };
    assert_eq!(
        validate_layout(&layout),
        Err(LayoutError::PersonalData { field: "notices" })
    );
    let paper = decode(&encode_ticket(&layout, &options(PaperWidth::Mm80))).unwrap();
    assert!(
        !has_id_number(&paper.everything()),
        "{}",
        paper.everything()
    );
    assert!(paper.qr_codes.is_empty());
}

#[test]
fn control_characters_cannot_inject_commands() {
    let layout = TicketLayout {
        hall_name: "大厅\x1b@\x1dV\x41\x00".into(),
        number: "A\n001".into(),
        ..normal_ticket()
    };
    let paper = decode(&encode_ticket(&layout, &options(PaperWidth::Mm80))).unwrap();
    assert!(paper.line("A 001").is_some());
    assert!(!paper.cut.unwrap().full);
}

#[test]
fn library_rendering_shows_the_ticket() {
    let text = render_text(
        &encode_ticket(&priority_ticket(), &options(PaperWidth::Mm80)),
        PaperWidth::Mm80,
    );
    assert!(text.contains(PRIORITY_BANNER), "{text}");
    assert!(text.contains("GA012"));
    assert!(text.contains("×4x4"));
    assert!(text.contains("[QR https://gw.example.cn/q/GA012?h=07]"));
    assert!(text.contains("partial cut"));
    let normal = render_text(
        &encode_ticket(&normal_ticket(), &options(PaperWidth::Mm58)),
        PaperWidth::Mm58,
    );
    assert!(!normal.contains("优先"));
    assert!(normal.contains("前面还有 3 人"));
}

fn text_field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,60}",
        "[\u{4e00}-\u{9fa5} 0-9A-Za-z·…（）\u{1F600}\u{20000}\x00-\x1f]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn render_text_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let _ = render_text(&bytes, paper);
        }
    }

    #[test]
    fn render_text_never_panics_on_mangled_tickets(cut in 0usize..400, junk in proptest::collection::vec(any::<u8>(), 0..20)) {
        let mut bytes = encode_ticket(&priority_ticket(), &PrinterOptions::default());
        bytes.truncate(cut.min(bytes.len()));
        bytes.extend(junk);
        let _ = render_text(&bytes, PaperWidth::Mm80);
    }

    #[test]
    fn any_layout_decodes_and_fits(
        hall in text_field(), service in text_field(), number in "[A-Z]{0,3}[0-9]{1,4}",
        ahead in any::<u32>(), priority in any::<bool>(), notices in proptest::collection::vec(text_field(), 0..3),
        details in proptest::collection::vec(text_field(), 0..3), caption in proptest::option::of(text_field()),
        qr in proptest::option::of("[ -~]{1,300}"), wide in any::<bool>(),
    ) {
        let paper_width = if wide { PaperWidth::Mm80 } else { PaperWidth::Mm58 };
        let layout = TicketLayout {
            hall_name: hall, banner: priority.then(|| PRIORITY_BANNER.into()), number: number.clone(), service_name: service,
            ahead: format!("前面还有 {ahead} 人"), details: details.clone(), issued_at: "2026-11-23 09:41".into(),
            qr_payload: qr.clone(), qr_caption: caption, notices: notices.clone(),
        };
        let paper = decode(&encode_ticket(&layout, &options(paper_width))).unwrap();
        for line in &paper.lines {
            let w: usize = line.text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
            prop_assert!(w * usize::from(line.width) <= paper_width.columns());
        }
        let ahead_line = format!("前面还有 {ahead} 人");
        prop_assert!(paper.line(&ahead_line).is_some());
        prop_assert_eq!(paper.line(PRIORITY_BANNER).is_some(), priority);
        prop_assert!(
            paper.lines.iter().any(|l| l.text == number && (l.width, l.height) == (4, 4)),
            "number {} not at quadruple size", number
        );
        if validate_layout(&layout).is_ok() {
            prop_assert_eq!(paper.qr_codes.first().map(|q| q.payload.clone()), qr);
            // Details and notices are never cut.
            let all = run_together(&paper);
            for paragraph in details.iter().chain(&notices) {
                let words: String = paragraph.chars().map(|c| if c.is_control() { ' ' } else { c }).filter(|c| *c != ' ').collect();
                prop_assert!(all.contains(&words), "{:?} cut", paragraph);
            }
        }
        prop_assert!(!has_id_number(&paper.everything()));
        prop_assert!(paper.cut.is_some());
    }
}
