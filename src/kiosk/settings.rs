//! What a ticket machine needs to know of its hall: its name and time
//! zone, the services (with what to bring) and the windows that serve them,
//! the default service, the progress page's address, the notice lines, the
//! no-show grace. On the hall's own machine it comes from the
//! configuration; a kiosk machine of a hall of several gets it from the hall
//! server (it is the body of `GET /api/kiosk/setup`).

use std::time::Duration;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::queue::DayBoundary;

/// A service as the kiosk shows and prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceInfo {
    /// Code (`civil`).
    pub code: String,
    /// Name (`民政救助`).
    pub name: String,
    /// What to bring.
    pub documents: Vec<String>,
    /// The windows that call it.
    pub windows: Vec<u32>,
}

/// What a kiosk knows of its hall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KioskSettings {
    /// The hall's name.
    pub hall_name: String,
    /// The hall's time zone (`Asia/Shanghai`).
    pub timezone: String,
    /// When the service day turns (`04:00`).
    pub rollover: String,
    /// The services, in configuration order (the keypad's `1`–`9`).
    pub services: Vec<ServiceInfo>,
    /// Issue for this service without asking.
    pub default_service: Option<String>,
    /// Base URL of the progress page (the ticket's QR code).
    pub public_url: Option<String>,
    /// Lines printed on every ticket.
    pub notice: Vec<String>,
    /// Minutes a no-show may rejoin the line.
    pub rejoin_grace_minutes: u32,
}

impl KioskSettings {
    /// The settings of this machine's configuration.
    pub fn of(cfg: &Config) -> KioskSettings {
        KioskSettings {
            hall_name: cfg.hall_name.clone(),
            timezone: cfg.day.timezone.name().to_string(),
            rollover: cfg.day.rollover.format("%H:%M").to_string(),
            services: cfg
                .services
                .iter()
                .map(|s| ServiceInfo {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    documents: s.documents.clone(),
                    windows: cfg
                        .windows
                        .iter()
                        .filter(|w| w.services.contains(&s.code))
                        .map(|w| w.number)
                        .collect(),
                })
                .collect(),
            default_service: cfg.kiosk.default_service.clone(),
            public_url: cfg.kiosk.public_url.clone(),
            notice: cfg.kiosk.notice.clone(),
            rejoin_grace_minutes: (cfg.policy.rejoin_grace.as_secs() / 60) as u32,
        }
    }

    /// A service by code.
    pub fn service(&self, code: &str) -> Option<&ServiceInfo> {
        self.services.iter().find(|s| s.code == code)
    }

    /// The service to issue for when nobody chooses: the default, or the
    /// only one.
    pub fn default_service(&self) -> Option<String> {
        self.default_service
            .clone()
            .or_else(|| (self.services.len() == 1).then(|| self.services[0].code.clone()))
    }

    /// The service day's boundary (Shanghai at 04:00 when unreadable).
    pub fn day(&self) -> DayBoundary {
        DayBoundary {
            timezone: self.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
            rollover: NaiveTime::parse_from_str(&self.rollover, "%H:%M")
                .unwrap_or(NaiveTime::from_hms_opt(4, 0, 0).expect("a time")),
        }
    }

    /// The no-show grace.
    pub fn rejoin_grace(&self) -> Duration {
        Duration::from_secs(u64::from(self.rejoin_grace_minutes) * 60)
    }

    /// The service keys, `1` to `9`, as `(key, service name)`.
    pub fn service_keys(&self) -> Vec<(String, String)> {
        self.services
            .iter()
            .take(9)
            .enumerate()
            .map(|(i, s)| ((i + 1).to_string(), s.name.clone()))
            .collect()
    }
}
