//! Who did something: every journal event and every case event names its
//! actor.

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The daemon itself (a day rollover, an automatic assignment).
    System,
    /// The hall manager.
    Manager,
    /// A helper, by id.
    Helper(String),
    /// A window's staff.
    Window(u32),
    /// A ticket machine: the hall's own (`None`) or one by its id.
    Kiosk(Option<String>),
    /// A window's evaluator (评价器), by window number.
    Evaluator(u32),
    /// The resident themselves, through their ticket's progress page.
    Resident,
    /// The booking hotline (预约热线): books, moves and cancels
    /// appointments for residents who call.
    Hotline,
}

impl Actor {
    /// The actor as recorded (`system`, `manager`, `helper:h1`, `window:2`,
    /// `kiosk`, `kiosk:k2`, `evaluator:3`, `resident`, `hotline`).
    pub fn recorded(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Manager => "manager".into(),
            Actor::Helper(h) => format!("helper:{h}"),
            Actor::Window(w) => format!("window:{w}"),
            Actor::Kiosk(None) => "kiosk".into(),
            Actor::Kiosk(Some(k)) => format!("kiosk:{k}"),
            Actor::Evaluator(w) => format!("evaluator:{w}"),
            Actor::Resident => "resident".into(),
            Actor::Hotline => "hotline".into(),
        }
    }
}
