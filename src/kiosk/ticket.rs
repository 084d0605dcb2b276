//! The printed ticket: what the kiosk puts on paper, worded here (the
//! printer driver only lays lines out).

use greenwave_drivers::printer::TicketLayout;

use super::settings::KioskSettings;
use crate::queue::{Lane, Ticket};

/// The banner printed in reverse video on priority tickets, so that they
/// are visibly different from normal ones.
pub const PRIORITY_BANNER: &str = "优先服务 · 绿波通道";

/// The ticket `t` with `ahead` people before it, as printed.
pub fn layout(cfg: &KioskSettings, t: &Ticket, ahead: usize) -> TicketLayout {
    let service_name = cfg
        .service(&t.service)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let issued_at = chrono::DateTime::from_timestamp_millis(t.issued_at.0)
        .map(|d| {
            d.with_timezone(&cfg.day().timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    TicketLayout {
        hall_name: cfg.hall_name.clone(),
        banner: (t.lane == Lane::Priority).then(|| PRIORITY_BANNER.to_string()),
        number: t.number.clone(),
        service_name,
        ahead: format!("前面还有 {ahead} 人"),
        issued_at,
        qr_payload: cfg
            .public_url
            .as_ref()
            .filter(|_| !t.token.is_empty())
            .map(|u| format!("{}/t/{}", u.trim_end_matches('/'), t.token)),
        notice: (!cfg.notice.is_empty()).then(|| cfg.notice.join(" ")),
    }
}
