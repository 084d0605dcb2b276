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
            let spoken = match &problem {
                Some(p) => format!("{p}，{WRITE_IT_DOWN}"),
                None => PROMPT_TAKE_TICKET.to_string(),
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
    for n in samples {
        out.push(number_prompt(n, false));
        out.push(number_prompt(n, true));
    }
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
