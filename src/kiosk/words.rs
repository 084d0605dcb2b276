//! Every sentence the kiosk shows or says, from typed outcomes: the one
//! projection of an [`Outcome`] (and of a device's trouble) into the screen
//! [`Update`] and the spoken prompt. Nothing else in greenwave words what
//! happened at the kiosk: the drivers report typed reasons, the kiosk
//! thread reports typed outcomes, and this module turns both into the
//! resident's Simplified Chinese.

use greenwave_drivers::card::{DeviceFault, ReadFailure};

use super::outcome::{Outcome, PrintProblem};
use super::screen::{TicketShown, Update};
use crate::queue::Lane;
use crate::schedule::{Opening, Refusal};
use chrono::{NaiveDate, NaiveTime};

/// The prompt after a ticket is issued (or printed again).
pub const PROMPT_TAKE_TICKET: &str = "请取票";
/// The prompt when the kiosk is ready for a card again.
pub const PROMPT_SWIPE: &str = "请刷身份证";
/// The prompt when a resident must choose a service.
pub const PROMPT_CHOOSE_SERVICE: &str = "请选择办理的业务";
/// When the hall cannot issue a ticket.
pub const UNAVAILABLE: &str = "暂时无法取号，请联系工作人员";
/// A priority card nobody bound.
pub const CARD_NOT_BOUND: &str = "此卡尚未绑定，请刷身份证或联系工作人员";
/// What the resident does when a ticket did not print.
pub const WRITE_IT_DOWN: &str = "请记下号码或联系工作人员";
/// An appointment ticket: the resident came in their slot's window.
pub const BOOKED_IN_TIME: &str = "已按您的预约时间排队";
/// A booked resident who came after their slot's window: a walk-in ticket.
pub const BOOKED_LATE: &str = "您已错过预约时段，已按到达时间为您排队，请耐心等候";

/// The word on a ticket's booking: in time (an appointment ticket), or
/// late (a walk-in ticket of a resident who had booked); nothing for a
/// walk-in or a priority ticket.
pub fn booking_note(t: &crate::queue::Ticket) -> Option<&'static str> {
    match (t.lane, &t.booking) {
        (Lane::Appointment, _) => Some(BOOKED_IN_TIME),
        (Lane::Normal, Some(_)) => Some(BOOKED_LATE),
        _ => None,
    }
}

/// What the kiosk shows and says about one resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// The screen's update.
    pub update: Update,
    /// The prompt spoken (with `[voice] kiosk_prompts`).
    pub spoken: String,
}

/// The screen update and the spoken prompt for an outcome. `keys` are the
/// service keys offered when a choice is needed; `service` names the
/// ticket's service.
pub fn present(outcome: &Outcome, keys: &[(String, String)], service: &str) -> Presentation {
    match outcome {
        Outcome::Ticket {
            ticket,
            reprint,
            ahead,
            print,
            ..
        } => {
            let problem = print.as_ref().err().map(|p| print_problem(*p).to_string());
            let sentence = ticket_sentence(
                &ticket.number,
                ticket.lane,
                service,
                *ahead,
                *reprint,
                print,
            );
            let note = booking_note(ticket);
            let spoken = match (&problem, note) {
                (Some(p), _) => format!("{p}，{WRITE_IT_DOWN}"),
                (None, Some(BOOKED_LATE)) => format!("{BOOKED_LATE}，{PROMPT_TAKE_TICKET}"),
                (None, _) => PROMPT_TAKE_TICKET.to_string(),
            };
            let sentence = match note {
                Some(n) => format!("{sentence}。{n}"),
                None => sentence,
            };
            Presentation {
                update: Update::Ticket {
                    ticket: TicketShown {
                        number: ticket.number.clone(),
                        lane: ticket.lane,
                        service: service.to_string(),
                        ahead: *ahead,
                        reprint: *reprint,
                        print_problem: problem,
                        note: note.map(str::to_string),
                    },
                    sentence,
                },
                spoken,
            }
        }
        Outcome::ChooseService => Presentation {
            update: Update::Choose(keys.to_vec()),
            spoken: PROMPT_CHOOSE_SERVICE.to_string(),
        },
        Outcome::CardNotBound => message(CARD_NOT_BOUND),
        Outcome::NotNow { refusal, today, .. } => {
            let (screen, spoken) = not_now(refusal, service, *today);
            Presentation {
                update: Update::Message(screen),
                spoken,
            }
        }
        Outcome::ReadFailed(reason) => message(read_failure(reason)),
        Outcome::Unavailable => message(UNAVAILABLE),
        Outcome::Paused => message(super::screen::PAUSED),
    }
}

fn message(text: &str) -> Presentation {
    Presentation {
        update: Update::Message(text.to_string()),
        spoken: text.to_string(),
    }
}

/// The line-mode sentence of a ticket. Says "printed again" only when it
/// was.
fn ticket_sentence(
    number: &str,
    lane: Lane,
    service: &str,
    ahead: usize,
    reprint: bool,
    print: &Result<(), PrintProblem>,
) -> String {
    let mut s = format!(
        "您的号码 {number}（{}，{service}），前面还有 {ahead} 人",
        lane.label()
    );
    match (reprint, print) {
        (true, Ok(())) => s = format!("您已取号，已为您重新打印。{s}"),
        (true, Err(_)) => s = format!("您已取号。{s}"),
        (false, _) => {}
    }
    if let Err(p) = print {
        s = format!("{s}。{}，{WRITE_IT_DOWN}", print_problem(*p));
    }
    s
}

/// Why no ticket now and when to come back, for the screen and for the
/// voice: `今日民政救助号已发完，请明天 8:30 后再来` is spoken
/// `…请明天上午八点半后再来` (the voice reads words, not `8:30`).
pub fn not_now(refusal: &Refusal, service: &str, today: NaiveDate) -> (String, String) {
    let written = sentence(refusal, service, &|t| written_time(t), &|d| {
        day_words(d, today, false)
    });
    // The spaces that set a written time apart are no words.
    let spoken = sentence(refusal, service, &|t| spoken_time(t), &|d| {
        day_words(d, today, true)
    });
    (written, spoken.replace(' ', ""))
}

/// [`not_now`]'s sentence with times and days worded by `time` and `day`.
fn sentence(
    refusal: &Refusal,
    service: &str,
    time: &dyn Fn(NaiveTime) -> String,
    day: &dyn Fn(NaiveDate) -> String,
) -> String {
    let when = |o: &Opening| format!("{}{}", day(o.date), time(o.at));
    match refusal {
        Refusal::NotYetOpen { opens } => {
            format!("{service}今天{} 开始取号，请稍候", time(*opens))
        }
        Refusal::Break { reopens } => format!("{service}{} 开始取号", time(*reopens)),
        Refusal::Closed { next: Some(o) } => {
            format!("{service}今日取号已结束，请{} 后再来", when(o))
        }
        Refusal::Closed { next: None } => format!("{service}今日取号已结束"),
        Refusal::DailyLimit { next: Some(o) } => {
            format!("今日{service}号已发完，请{} 后再来", when(o))
        }
        Refusal::DailyLimit { next: None } => format!("今日{service}号已发完"),
        Refusal::HourlyLimit { next } => {
            format!("{service}本时段的号已发完，请{} 后再来", when(next))
        }
        Refusal::EarlyForBooking { slot, from } => {
            format!(
                "您预约了{service}{} 的时段，请{} 后再来取号",
                time(*slot),
                time(*from)
            )
        }
    }
}

/// One refusal of each kind, for [`every_prompt`] and the tests, as on
/// 2026-12-01 (a Tuesday).
fn sample_refusals() -> Vec<Refusal> {
    let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    let on = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default();
    vec![
        Refusal::NotYetOpen { opens: at(8, 30) },
        Refusal::Break {
            reopens: at(13, 30),
        },
        Refusal::Closed {
            next: Some(Opening {
                date: on(7),
                at: at(8, 30),
            }),
        },
        Refusal::DailyLimit {
            next: Some(Opening {
                date: on(2),
                at: at(8, 30),
            }),
        },
        Refusal::HourlyLimit {
            next: Opening {
                date: on(1),
                at: at(11, 0),
            },
        },
        Refusal::EarlyForBooking {
            slot: at(14, 0),
            from: at(13, 30),
        },
    ]
}

/// `明天`, `后天`, `12月7日（周一）` (spoken `十二月七日星期一`: the
/// voice reads digits one by one); nothing for today.
fn day_words(date: NaiveDate, today: NaiveDate, spoken: bool) -> String {
    use crate::speech::chinese_number;
    use chrono::Datelike;
    let week =
        ["一", "二", "三", "四", "五", "六", "日"][date.weekday().num_days_from_monday() as usize];
    match (date - today).num_days() {
        0 => String::new(),
        1 => "明天".to_string(),
        2 => "后天".to_string(),
        _ if spoken => format!(
            "{}月{}日星期{week}",
            chinese_number(date.month()),
            chinese_number(date.day())
        ),
        _ => format!("{}月{}日（周{week}）", date.month(), date.day()),
    }
}

/// `上午 8:30`, `下午 13:30` as the hall's notices write it.
fn written_time(t: NaiveTime) -> String {
    use chrono::Timelike;
    let part = match t.hour() {
        0..=11 => "上午",
        12 => "中午",
        13..=17 => "下午",
        _ => "晚上",
    };
    format!("{part} {}:{:02}", t.hour(), t.minute())
}

/// `上午八点半`, `下午一点三十五分`: the time as people say it.
fn spoken_time(t: NaiveTime) -> String {
    use crate::speech::chinese_number;
    use chrono::Timelike;
    let (part, h) = match t.hour() {
        0..=11 => ("上午", t.hour()),
        12 => ("中午", 12),
        13..=17 => ("下午", t.hour() - 12),
        h => ("晚上", h - 12),
    };
    let m = match t.minute() {
        0 => String::new(),
        30 => "半".to_string(),
        m => format!("{}分", chinese_number(m)),
    };
    // Two o'clock is 两点, never 二点.
    let hour = match h {
        2 => "两".to_string(),
        h => chinese_number(h),
    };
    format!("{part}{hour}点{m}")
}

/// What the kiosk says as soon as a ticket is issued, before it prints:
/// the number, read one character at a time (`您的号码 G A 零 一 二`).
pub fn number_prompt(number: &str, reprint: bool) -> String {
    let n = crate::speech::number_words(number);
    if reprint {
        format!("您已取号，号码 {n}")
    } else {
        format!("您的号码 {n}")
    }
}

/// Every sentence the kiosk can say, with `sample` numbers for the ones
/// that name a ticket (for `greenwave voice sentences` and its test).
pub fn every_prompt(samples: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = [
        PROMPT_TAKE_TICKET,
        PROMPT_SWIPE,
        PROMPT_CHOOSE_SERVICE,
        UNAVAILABLE,
        CARD_NOT_BOUND,
        super::screen::PAUSED,
    ]
    .map(str::to_string)
    .to_vec();
    for r in [
        ReadFailure::BadCard(String::new()),
        ReadFailure::Unreadable(String::new()),
        ReadFailure::NotAPriorityCard(String::new()),
    ] {
        out.push(read_failure(&r).to_string());
    }
    for p in [
        PrintProblem::PaperOut,
        PrintProblem::CoverOpen,
        PrintProblem::Offline,
        PrintProblem::NotConfigured,
        PrintProblem::Fault,
    ] {
        out.push(format!("{}，{WRITE_IT_DOWN}", print_problem(p)));
    }
    out.push(format!("{BOOKED_LATE}，{PROMPT_TAKE_TICKET}"));
    for n in samples {
        out.push(number_prompt(n, false));
        out.push(number_prompt(n, true));
    }
    out.extend(sample_refusals().iter().map(|r| {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        not_now(r, "民政救助", today).1
    }));
    out
}

/// An estimated wait in words: `预计等候 10–20 分钟` (`0–10` reads
/// `预计等候 10 分钟以内`).
pub fn wait_words(r: crate::queue::WaitRange) -> String {
    if r.low == 0 {
        format!("预计等候 {} 分钟以内", r.high)
    } else {
        format!("预计等候 {}–{} 分钟", r.low, r.high)
    }
}

/// A print problem in the words a resident (and staff) understand.
pub fn print_problem(p: PrintProblem) -> &'static str {
    match p {
        PrintProblem::PaperOut => "打印机缺纸",
        PrintProblem::CoverOpen => "打印机盖未合上",
        PrintProblem::Offline => "打印机未连接",
        PrintProblem::NotConfigured => "未配置打印机",
        PrintProblem::Refused | PrintProblem::Fault => "打印机故障",
    }
}

/// A card that could not be read, in the resident's words.
pub fn read_failure(r: &ReadFailure) -> &'static str {
    match r {
        ReadFailure::BadCard(_) => "无法识别此证件，请联系工作人员",
        ReadFailure::Unreadable(_) => "读卡失败，请重新放置证件",
        ReadFailure::NotAPriorityCard(_) => "无法识别此卡，请确认是否为优先卡",
    }
}

/// A card reader's trouble, in the words of the screen's warning line.
pub fn device_fault(f: &DeviceFault) -> &'static str {
    match f {
        DeviceFault::Disconnected(_) | DeviceFault::NotFound(_) => "读卡器未连接",
        DeviceFault::NoAnswer(_) => "读卡器无应答",
        DeviceFault::ModuleFault(_) | DeviceFault::ServiceUnavailable(_) => "读卡器故障",
    }
}

/// The screen update for a card reader that went out of service.
pub fn reader_down(f: &DeviceFault) -> Update {
    Update::ReaderDown(device_fault(f).to_string())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_refusal_says_why_and_when_to_come_back_in_words_for_the_voice() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let said: Vec<(String, String)> = sample_refusals()
            .iter()
            .map(|r| not_now(r, "民政救助", today))
            .collect();
        let screens: Vec<&str> = said.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            screens,
            [
                "民政救助今天上午 8:30 开始取号，请稍候",
                "民政救助下午 13:30 开始取号",
                "民政救助今日取号已结束，请12月7日（周一）上午 8:30 后再来",
                "今日民政救助号已发完，请明天上午 8:30 后再来",
                "民政救助本时段的号已发完，请上午 11:00 后再来",
                "您预约了民政救助下午 14:00 的时段，请下午 13:30 后再来取号",
            ]
        );
        assert_eq!(
            said[5].1,
            "您预约了民政救助下午两点的时段，请下午一点半后再来取号"
        );
        // Spoken: no digits or colons for the voice to read as English.
        assert_eq!(said[3].1, "今日民政救助号已发完，请明天上午八点半后再来");
        assert_eq!(said[1].1, "民政救助下午一点半开始取号");
        assert_eq!(
            said[2].1,
            "民政救助今日取号已结束，请十二月七日星期一上午八点半后再来"
        );
        for (_, spoken) in &said {
            assert!(
                !spoken.contains(|c: char| c == ':' || c.is_ascii_digit()),
                "{spoken}"
            );
        }
    }
    /// Regression: 14:00 was spoken 下午二点; two o'clock is 两点.
    #[test]
    fn two_oclock_is_spoken_liang_dian() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(spoken_time(t(14, 0)), "下午两点");
        assert_eq!(spoken_time(t(2, 30)), "上午两点半");
        assert_eq!(spoken_time(t(12, 0)), "中午十二点");
        assert_eq!(spoken_time(t(10, 20)), "上午十点二十分");
    }

    use super::*;
    use crate::queue::{Ticket, TicketId, TicketState, Timestamp};

    fn ticket(number: &str, lane: Lane) -> Box<Ticket> {
        Box::new(Ticket {
            id: TicketId(1),
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            number: number.into(),
            service: "civil".into(),
            origin_service: "civil".into(),
            lane,
            seq: 1,
            issued_at: Timestamp(0),
            state: TicketState::Waiting,
            window: None,
            target_window: None,
            called_at: None,
            first_called_at: None,
            started_at: None,
            closed_at: None,
            calls: 0,
            transfers: 0,
            token: String::new(),
            person: None,
            identified: None,
            slot_at: None,
            booking: None,
        })
    }

    fn outcome(reprint: bool, print: Result<(), PrintProblem>) -> Outcome {
        Outcome::Ticket {
            ticket: ticket("GA004", Lane::Priority),
            reprint,
            ahead: 2,
            reason: None,
            print,
        }
    }

    #[test]
    fn a_printed_ticket_says_take_it() {
        let p = present(&outcome(false, Ok(())), &[], "民政救助");
        assert_eq!(
            p.update.line(),
            "您的号码 GA004（绿波通道，民政救助），前面还有 2 人"
        );
        assert_eq!(p.spoken, "请取票");
    }

    /// Regression: out of paper, a second swipe said "已为您重新打印"
    /// although nothing was printed.
    #[test]
    fn regression_a_reprint_that_did_not_print_never_claims_it_did() {
        let p = present(&outcome(true, Err(PrintProblem::PaperOut)), &[], "民政救助");
        let line = p.update.line();
        assert!(!line.contains("重新打印"), "{line}");
        assert_eq!(
            line,
            "您已取号。您的号码 GA004（绿波通道，民政救助），前面还有 2 人。打印机缺纸，请记下号码或联系工作人员"
        );
        assert_eq!(p.spoken, "打印机缺纸，请记下号码或联系工作人员");
        let ok = present(&outcome(true, Ok(())), &[], "民政救助");
        assert!(ok.update.line().starts_with("您已取号，已为您重新打印。"));
    }

    #[test]
    fn refusals_are_shown_and_spoken_the_same() {
        for o in [
            Outcome::CardNotBound,
            Outcome::Unavailable,
            Outcome::Paused,
            Outcome::ReadFailed(ReadFailure::Unreadable("timeout".into())),
        ] {
            let p = present(&o, &[], "");
            assert_eq!(p.update.line(), p.spoken);
            assert!(!p.spoken.is_ascii(), "{}", p.spoken);
        }
    }

    #[test]
    fn a_failing_security_module_is_a_reader_fault() {
        assert_eq!(
            device_fault(&DeviceFault::ModuleFault("SW3=60".into())),
            "读卡器故障"
        );
    }
}
