//! The printed ticket: what the kiosk puts on paper, worded here (the
//! printer driver only lays lines out). Besides the number, a ticket
//! answers the resident's questions: how long (the estimated wait, when
//! the day can tell), where (the windows that call the service), what to
//! bring (the service's documents), what the QR code is for, and the rules
//! (the no-show grace, valid today only). Never a name or an ID number.

use greenwave_drivers::printer::TicketLayout;

use super::desk::IssuedTicket;
use super::settings::{KioskSettings, ServiceInfo};
use super::words::wait_words;
use crate::queue::Lane;

/// The banner printed in reverse video on priority tickets, so that they
/// are visibly different from normal ones.
pub const PRIORITY_BANNER: &str = "优先服务 · 绿波通道";

/// The banner printed on appointment tickets.
pub const APPOINTMENT_BANNER: &str = "预约服务";

/// Printed under the QR code, which opens the ticket's progress page.
pub const QR_CAPTION: &str = "扫码查看排队进度";

/// A ticket is for its service day only.
pub const VALID_TODAY: &str = "当日有效";

/// The ticket as the desk issued it, as printed.
pub fn layout(cfg: &KioskSettings, issued: &IssuedTicket) -> TicketLayout {
    let t = &issued.ticket;
    let service = cfg.service(&t.service);
    let issued_at = chrono::DateTime::from_timestamp_millis(t.issued_at.0)
        .map(|d| {
            d.with_timezone(&cfg.day().timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let qr_payload = cfg
        .public_url
        .as_ref()
        .filter(|_| !t.token.is_empty())
        .map(|u| format!("{}/t/{}", u.trim_end_matches('/'), t.token));
    TicketLayout {
        hall_name: cfg.hall_name.clone(),
        banner: match t.lane {
            Lane::Priority => Some(PRIORITY_BANNER.to_string()),
            Lane::Appointment => Some(APPOINTMENT_BANNER.to_string()),
            Lane::Normal => None,
        },
        number: t.number.clone(),
        service_name: service.map(|s| s.name.clone()).unwrap_or_default(),
        ahead: format!("前面还有 {} 人", issued.ahead),
        details: booking_lines(cfg, t)
            .into_iter()
            .chain(details(issued, service))
            .collect(),
        issued_at,
        qr_caption: qr_payload.is_some().then(|| QR_CAPTION.to_string()),
        qr_payload,
        notices: rules(cfg.rejoin_grace_minutes)
            .into_iter()
            .chain(cfg.notice.iter().cloned())
            .collect(),
    }
}

/// An appointment ticket's slot (`预约时段 10:00–10:30`) and that it is
/// called in its place; a late resident's kind word.
fn booking_lines(cfg: &KioskSettings, t: &crate::queue::Ticket) -> Vec<String> {
    let local = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| {
                d.with_timezone(&cfg.day().timezone)
                    .format("%H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    if let (Lane::Appointment, Some(slot)) = (t.lane, t.slot_at) {
        let end = slot.0 + crate::booking::SLOT_MINUTES * 60_000;
        lines.push(format!("预约时段 {}–{}", local(slot.0), local(end)));
    }
    lines.extend(super::words::booking_note(t).map(str::to_string));
    lines
}

/// Under the number: how long, where, what to bring; each left out when
/// there is nothing to say.
fn details(issued: &IssuedTicket, service: Option<&ServiceInfo>) -> Vec<String> {
    let mut lines: Vec<String> = issued.wait.map(wait_words).into_iter().collect();
    if let Some(s) = service {
        if !s.windows.is_empty() {
            let windows: Vec<String> = s.windows.iter().map(u32::to_string).collect();
            lines.push(format!("请留意 {} 号窗口叫号", windows.join("、")));
        }
        if !s.documents.is_empty() {
            lines.push(format!("请携带：{}", s.documents.join("、")));
        }
    }
    lines
}

/// The ticket's rules: what a resident who misses the call may do, and
/// that it is for today only.
fn rules(rejoin_grace_minutes: u32) -> Vec<String> {
    let no_show = if rejoin_grace_minutes > 0 {
        format!("过号请在 {rejoin_grace_minutes} 分钟内到窗口重新排队")
    } else {
        // No grace worth a minute: a missed call cannot be made good.
        "过号请重新取号".to_string()
    };
    vec![no_show, VALID_TODAY.to_string()]
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::queue::{Ticket, TicketId, TicketState, Timestamp, WaitRange};

    fn settings() -> KioskSettings {
        KioskSettings {
            hall_name: "朝阳区政务服务中心".into(),
            timezone: "Asia/Shanghai".into(),
            rollover: "04:00".into(),
            services: vec![
                ServiceInfo {
                    code: "civil".into(),
                    name: "民政救助".into(),
                    documents: vec!["身份证".into(), "户口簿".into()],
                    windows: vec![1, 2],
                },
                ServiceInfo {
                    code: "medical".into(),
                    name: "医保业务".into(),
                    documents: vec![],
                    windows: vec![],
                },
            ],
            default_service: None,
            public_url: Some("http://192.168.1.10:8080/".into()),
            notice: vec!["咨询热线 12345".into(), "请保管好随身物品".into()],
            rejoin_grace_minutes: 20,
        }
    }

    fn issued(service: &str, lane: Lane, wait: Option<WaitRange>) -> IssuedTicket {
        IssuedTicket {
            ticket: Ticket {
                id: TicketId(1),
                day: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                number: "GA012".into(),
                service: service.into(),
                origin_service: service.into(),
                lane,
                seq: 12,
                // 2026-11-23 09:41 in Shanghai.
                issued_at: Timestamp(1_795_398_060_000),
                state: TicketState::Waiting,
                window: None,
                target_window: None,
                called_at: None,
                first_called_at: None,
                started_at: None,
                closed_at: None,
                calls: 0,
                transfers: 0,
                token: "tok123".into(),
                person: Some("ab".repeat(32)),
                identified: None,
                slot_at: None,
                booking: None,
            },
            reprint: false,
            ahead: 3,
            wait,
            reason: None,
        }
    }

    #[test]
    fn the_ticket_says_how_long_where_and_what_to_bring() {
        let wait = Some(WaitRange { low: 10, high: 20 });
        let l = layout(&settings(), &issued("civil", Lane::Priority, wait));
        assert_eq!(l.banner.as_deref(), Some(PRIORITY_BANNER));
        assert_eq!(l.service_name, "民政救助");
        assert_eq!(l.ahead, "前面还有 3 人");
        assert_eq!(l.issued_at, "2026-11-23 09:41");
        assert_eq!(
            l.details,
            [
                "预计等候 10–20 分钟",
                "请留意 1、2 号窗口叫号",
                "请携带：身份证、户口簿"
            ]
        );
        assert_eq!(
            l.qr_payload.as_deref(),
            Some("http://192.168.1.10:8080/t/tok123")
        );
        assert_eq!(l.qr_caption.as_deref(), Some("扫码查看排队进度"));
        assert_eq!(
            l.notices,
            [
                "过号请在 20 分钟内到窗口重新排队",
                "当日有效",
                "咨询热线 12345",
                "请保管好随身物品"
            ],
            "the grace from the settings; each notice its own paragraph"
        );
        assert_eq!(greenwave_drivers::printer::validate_layout(&l), Ok(()));
        let all = format!("{l:?}");
        assert!(!all.contains(&"ab".repeat(32)), "never the resident's hash");
    }

    #[test]
    fn what_cannot_be_said_is_left_out() {
        let mut cfg = settings();
        cfg.public_url = None;
        cfg.notice.clear();
        cfg.rejoin_grace_minutes = 0;
        let l = layout(&cfg, &issued("medical", Lane::Normal, None));
        assert_eq!(l.banner, None);
        assert!(l.details.is_empty(), "no wait, window or document: {l:?}");
        assert_eq!((l.qr_payload, l.qr_caption), (None, None));
        assert_eq!(l.notices, ["过号请重新取号", "当日有效"]);

        let l = layout(&settings(), &issued("civil", Lane::Normal, None));
        assert!(
            !l.details.iter().any(|d| d.contains("预计")),
            "no estimate, no wait"
        );
        assert_eq!(l.details.len(), 2);
        let l = layout(
            &settings(),
            &issued("civil", Lane::Normal, Some(WaitRange { low: 0, high: 10 })),
        );
        assert_eq!(l.details[0], "预计等候 10 分钟以内");
    }
}
