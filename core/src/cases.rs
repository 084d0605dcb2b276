//! Accompanied service (全程协办): helpers, their cases, the policies they
//! explain and the residents' ratings. Pure logic: no IO, no clock, no SQL.
//!
//! Every priority ticket gets one case. The daemon opens it when the ticket
//! is issued (or upgraded to the priority lane) and assigns it with
//! [`pick_helper`]: the on-duty helper with the fewest open cases, ties going
//! to the helper listed first in the configuration. A case nobody is on duty
//! for stays unassigned and is visible to every helper; the next helper who
//! goes on duty receives it (see [`backlog_order`]). The helper owns the case
//! until they close it, even when they go off duty.
//!
//! A case knows the ticket (number, lane, service, state, window) and never
//! a name or an ID number: none is stored anywhere. The policies
//! themselves (`policies.toml`) are loaded by the main crate.

use serde::{Deserialize, Serialize};

use crate::queue::{Event, TicketState, Timestamp};

/// One helper's load, in configuration order, as the assignment rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperLoad {
    /// The helper's id (`[[helpers]] id`).
    pub id: String,
    /// On duty now.
    pub on_duty: bool,
    /// Cases assigned to the helper and not closed.
    pub open_cases: u32,
}

/// The assignment rule: among helpers on duty, the one with the fewest open
/// cases; ties go to the helper listed first. `None` when nobody is on duty.
pub fn pick_helper(helpers: &[HelperLoad]) -> Option<&str> {
    helpers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.on_duty)
        .min_by_key(|(i, h)| (h.open_cases, *i))
        .map(|(_, h)| h.id.as_str())
}

/// Assigns a backlog of unassigned cases one by one with [`pick_helper`],
/// counting each assignment before the next: returns `(case, helper)` pairs
/// for the cases that found a helper, in the order given (oldest first).
pub fn backlog_order(helpers: &[HelperLoad], cases: &[CaseId]) -> Vec<(CaseId, String)> {
    let mut loads = helpers.to_vec();
    let mut out = Vec::new();
    for c in cases {
        let Some(id) = pick_helper(&loads).map(str::to_string) else {
            break;
        };
        if let Some(h) = loads.iter_mut().find(|h| h.id == id) {
            h.open_cases += 1;
        }
        out.push((*c, id));
    }
    out
}

/// Shares the work: while an on-duty helper has two or more open cases
/// more than another on-duty helper, that helper's newest case not yet
/// started moves to the least loaded one (by [`pick_helper`]). `movable`
/// lists the open cases nobody has started, oldest first, with their owner
/// (a case a helper has taken, noted on or explained a policy in stays with
/// them, as does one the manager gave). Returns the moves `(case, to)`, in
/// order.
pub fn rebalance(helpers: &[HelperLoad], movable: &[(CaseId, String)]) -> Vec<(CaseId, String)> {
    let mut loads = helpers.to_vec();
    let mut movable = movable.to_vec();
    let mut moves = Vec::new();
    while let Some(to) = pick_helper(&loads).map(str::to_string) {
        let least = loads
            .iter()
            .find(|h| h.id == to)
            .map_or(0, |h| h.open_cases);
        // The most loaded on-duty helper that has a case to give.
        let from = loads
            .iter()
            .filter(|h| h.on_duty && movable.iter().any(|(_, o)| *o == h.id))
            .max_by_key(|h| h.open_cases)
            .map(|h| (h.id.clone(), h.open_cases));
        let Some((from, most)) = from else { break };
        if most < least + 2 {
            break;
        }
        let Some(i) = movable.iter().rposition(|(_, o)| *o == from) else {
            break;
        };
        let (case, _) = movable.remove(i);
        for h in loads.iter_mut() {
            if h.id == from {
                h.open_cases -= 1;
            } else if h.id == to {
                h.open_cases += 1;
            }
        }
        moves.push((case, to));
    }
    moves
}

/// A case's identity in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub i64);

/// One case as stored: which ticket, who owns it, open or closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Identity.
    pub id: CaseId,
    /// The ticket it follows.
    pub ticket_id: crate::queue::TicketId,
    /// The helper who owns it; `None` while unassigned.
    pub helper: Option<String>,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// When it was closed, if it was.
    pub closed_at: Option<Timestamp>,
}

impl Case {
    /// Not closed yet.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

pub use crate::actor::Actor;

/// A satisfaction rating, on the five levels of the national 好差评
/// scheme. Staff record three of them (满意, 基本满意, 不满意: the entry
/// they always had); residents choose among all five.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rating {
    /// 非常满意.
    #[serde(rename = "非常满意")]
    VerySatisfied,
    /// 满意.
    #[serde(rename = "满意")]
    Satisfied,
    /// 基本满意.
    #[serde(rename = "基本满意")]
    FairlySatisfied,
    /// 不满意.
    #[serde(rename = "不满意")]
    Dissatisfied,
    /// 非常不满意.
    #[serde(rename = "非常不满意")]
    VeryDissatisfied,
}

impl Rating {
    /// Every rating, best first, in the order offered to residents.
    pub const ALL: [Rating; 5] = [
        Rating::VerySatisfied,
        Rating::Satisfied,
        Rating::FairlySatisfied,
        Rating::Dissatisfied,
        Rating::VeryDissatisfied,
    ];

    /// The three levels staff record.
    pub const STAFF: [Rating; 3] = [
        Rating::Satisfied,
        Rating::FairlySatisfied,
        Rating::Dissatisfied,
    ];

    /// The rating as shown and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::VerySatisfied => "非常满意",
            Rating::Satisfied => "满意",
            Rating::FairlySatisfied => "基本满意",
            Rating::Dissatisfied => "不满意",
            Rating::VeryDissatisfied => "非常不满意",
        }
    }

    /// Parses the shown form.
    pub fn parse(s: &str) -> Option<Rating> {
        Self::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// Counts as satisfied in the satisfaction rate (非常满意, 满意,
    /// 基本满意).
    pub fn is_satisfied(self) -> bool {
        matches!(
            self,
            Rating::VerySatisfied | Rating::Satisfied | Rating::FairlySatisfied
        )
    }

    /// Calls for the hall to call the resident back (不满意, 非常不满意).
    pub fn is_unhappy(self) -> bool {
        !self.is_satisfied()
    }
}

/// Who gave a rating: the resident themselves (at the window's evaluator
/// or on their phone), or staff entering what the resident said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingSource {
    /// The evaluator at the window (`/rate/{window}`).
    ResidentWindow,
    /// The resident's phone (the ticket's progress page).
    ResidentPhone,
    /// A window, a helper or the manager.
    Staff,
}

impl RatingSource {
    /// Every source.
    pub const ALL: [RatingSource; 3] = [
        RatingSource::ResidentWindow,
        RatingSource::ResidentPhone,
        RatingSource::Staff,
    ];

    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            RatingSource::ResidentWindow => "resident_window",
            RatingSource::ResidentPhone => "resident_phone",
            RatingSource::Staff => "staff",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<RatingSource> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The resident's own rating.
    pub fn is_resident(self) -> bool {
        self != RatingSource::Staff
    }
}

/// A stored rating of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingRecord {
    /// The rating.
    pub rating: Rating,
    /// The resident's comment, if any.
    pub comment: Option<String>,
    /// When it was recorded.
    pub at: Timestamp,
    /// Who recorded it (see [`Actor::recorded`]; `resident` for the
    /// resident's own).
    pub by: String,
    /// Whose rating it is.
    pub source: RatingSource,
}

/// What happened to a case, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseEventKind {
    /// The case was opened for a priority ticket.
    Opened,
    /// The case went to a helper (automatically, taken, or by the manager).
    Assigned {
        /// The helper.
        helper: String,
    },
    /// A progress note.
    Note {
        /// The text.
        text: String,
    },
    /// A policy was explained to the resident.
    PolicyExplained {
        /// The policy's id in policies.toml.
        policy: String,
        /// Its title at the time.
        title: String,
    },
    /// The case was closed.
    Closed,
    /// The resident asked for their helper from the progress page
    /// (`请协办员过来`). Recorded by `resident`; open until answered.
    ResidentCalled,
    /// The helper answered the resident's call (`我这就过去`).
    CallAnswered,
    /// The case continues the resident's earlier case (same keyed identity
    /// hash, within the follow-up period): recorded when it opens.
    Follows {
        /// The earlier ticket's number.
        number: String,
        /// Its service day (YYYY-MM-DD).
        day: String,
    },
    /// Closed waiting for something: the case stays on its helper's
    /// follow-up list until the resident's next visit is closed done.
    FollowUp {
        /// What it waits for.
        reason: FollowUpReason,
        /// What the resident must bring (`户口簿`), for `待补材料`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        missing: Option<String>,
    },
}

/// Why a closed case needs following up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpReason {
    /// `待补材料`: the resident must bring documents.
    MissingDocuments,
    /// `待审核`: waiting for a back-office decision.
    PendingReview,
}

impl FollowUpReason {
    /// The words staff read.
    pub fn label(self) -> &'static str {
        match self {
            FollowUpReason::MissingDocuments => "待补材料",
            FollowUpReason::PendingReview => "待审核",
        }
    }
}

impl CaseEventKind {
    /// The kind's name in the store and the API.
    pub fn name(&self) -> &'static str {
        match self {
            CaseEventKind::Opened => "case_opened",
            CaseEventKind::Assigned { .. } => "assigned",
            CaseEventKind::Note { .. } => "note",
            CaseEventKind::PolicyExplained { .. } => "policy_explained",
            CaseEventKind::Closed => "closed",
            CaseEventKind::ResidentCalled => "resident_called",
            CaseEventKind::CallAnswered => "call_answered",
            CaseEventKind::Follows { .. } => "follows",
            CaseEventKind::FollowUp { .. } => "follow_up",
        }
    }
}

/// One recorded case event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    /// When.
    pub at: Timestamp,
    /// Who (see [`Actor::recorded`]).
    pub actor: String,
    /// What.
    pub kind: CaseEventKind,
}

/// The actor recorded for what the resident does on their progress page
/// (the ticket's token is their only credential; nothing names them).
pub const RESIDENT: &str = "resident";

/// When the resident's call for their helper was made, if it is still
/// open: the first [`CaseEventKind::ResidentCalled`] that no answer, note,
/// policy explained or closing followed. `events` in recorded order. One
/// call stays open until the helper responds, so pressing again adds
/// nothing.
pub fn open_resident_call(events: &[CaseEvent]) -> Option<Timestamp> {
    let mut open = None;
    for e in events {
        match e.kind {
            CaseEventKind::ResidentCalled => {
                open.get_or_insert(e.at);
            }
            CaseEventKind::CallAnswered
            | CaseEventKind::Note { .. }
            | CaseEventKind::PolicyExplained { .. }
            | CaseEventKind::Closed => open = None,
            CaseEventKind::Opened
            | CaseEventKind::Assigned { .. }
            | CaseEventKind::Follows { .. }
            | CaseEventKind::FollowUp { .. } => {}
        }
    }
    open
}

/// May the resident call for their helper? The case must be open and
/// assigned; `Ok(false)` when a call is open already (nothing to record).
pub fn check_resident_call(
    case: &Case,
    number: &str,
    events: &[CaseEvent],
) -> Result<bool, CaseError> {
    if !case.is_open() {
        return Err(CaseError::Closed(number.to_string()));
    }
    if case.helper.is_none() {
        return Err(CaseError::NoHelper(number.to_string()));
    }
    Ok(open_resident_call(events).is_none())
}

/// Maximum length of a note or a rating comment, in characters.
pub const MAX_TEXT: usize = 500;

/// Why a case operation was refused. Messages are for staff, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// No ticket with this number today.
    #[error("没有号码 {0}")]
    UnknownNumber(String),
    /// The ticket has no case (not a priority ticket, or not opened yet).
    #[error("号码 {0} 没有协办案件（仅绿波通道号码有案件）")]
    NoCase(String),
    /// The case belongs to another helper.
    #[error("号码 {number} 的案件由协办员 {owner} 负责")]
    NotYours {
        /// Ticket number.
        number: String,
        /// The owner.
        owner: String,
    },
    /// The case must be taken before working on it.
    #[error("号码 {0} 的案件尚未分配，请先接手")]
    Unassigned(String),
    /// The case is closed.
    #[error("号码 {0} 的案件已结案")]
    Closed(String),
    /// The resident is still in line or at a window.
    #[error("号码 {number} 仍在{state}，办结、过号或取消后才能结案")]
    TicketOpen {
        /// Ticket number.
        number: String,
        /// The ticket's state label.
        state: &'static str,
    },
    /// An empty note.
    #[error("备注不能为空")]
    EmptyNote,
    /// A note or comment that is too long.
    #[error("内容过长（最多 {MAX_TEXT} 字）")]
    TooLong,
    /// No policy ids given.
    #[error("请至少选择一项政策")]
    NoPolicies,
    /// A policy id that policies.toml does not list.
    #[error("没有编号为 \"{0}\" 的政策")]
    UnknownPolicy(String),
    /// A rating that is not one of those offered (the words of those
    /// offered second).
    #[error("评价 \"{0}\" 无效，应为 {1}")]
    BadRating(String, &'static str),
    /// Rating before the ticket is finished.
    #[error("号码 {number} 尚未办结（{state}），办结后才能评价")]
    NotFinished {
        /// Ticket number.
        number: String,
        /// The ticket's state label.
        state: &'static str,
    },
    /// The ticket was rated already.
    #[error("号码 {0} 已经评价过")]
    AlreadyRated(String),
    /// A helper id that the configuration does not list.
    #[error("没有协办员 {0}")]
    UnknownHelper(String),
    /// The case has no helper yet (nobody on duty took it).
    #[error("号码 {0} 的案件尚未分配协办员")]
    NoHelper(String),
    /// Answering a resident's call that is not open.
    #[error("号码 {0} 没有待回应的居民呼叫")]
    NoResidentCall(String),
}

/// May `helper` take the case? `Ok(true)` when it is unassigned,
/// `Ok(false)` when it is already theirs (nothing to do).
pub fn check_take(case: &Case, number: &str, helper: &str) -> Result<bool, CaseError> {
    if !case.is_open() {
        return Err(CaseError::Closed(number.to_string()));
    }
    match &case.helper {
        None => Ok(true),
        Some(h) if h == helper => Ok(false),
        Some(h) => Err(CaseError::NotYours {
            number: number.to_string(),
            owner: h.clone(),
        }),
    }
}

/// May `actor` work on the case (notes, policies, close)? The owner and the
/// manager may; an unassigned case must be taken first.
pub fn check_work(case: &Case, number: &str, actor: &Actor) -> Result<(), CaseError> {
    if !case.is_open() {
        return Err(CaseError::Closed(number.to_string()));
    }
    match (actor, &case.helper) {
        (Actor::Manager | Actor::System, _) => Ok(()),
        (Actor::Helper(_), None) => Err(CaseError::Unassigned(number.to_string())),
        (Actor::Helper(me), Some(owner)) if me == owner => Ok(()),
        (_, Some(owner)) => Err(CaseError::NotYours {
            number: number.to_string(),
            owner: owner.clone(),
        }),
        (
            Actor::Window(_)
            | Actor::Kiosk(_)
            | Actor::Evaluator(_)
            | Actor::Resident
            | Actor::Hotline,
            None,
        ) => Err(CaseError::Unassigned(number.to_string())),
    }
}

/// May the case be closed? Only once the resident is no longer in line or
/// at a window (finished, no-show, cancelled or expired).
pub fn check_close(
    case: &Case,
    number: &str,
    actor: &Actor,
    ticket: TicketState,
) -> Result<(), CaseError> {
    check_work(case, number, actor)?;
    if ticket.is_open() {
        return Err(CaseError::TicketOpen {
            number: number.to_string(),
            state: ticket.label(),
        });
    }
    Ok(())
}

/// Validates a progress note; returns it trimmed.
pub fn check_note(text: &str) -> Result<String, CaseError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(CaseError::EmptyNote);
    }
    if t.chars().count() > MAX_TEXT {
        return Err(CaseError::TooLong);
    }
    Ok(t.to_string())
}

/// Validates a rating: the ticket is finished, not rated yet, the rating is
/// one of the three and the comment not too long (an empty one is dropped).
pub fn check_rating(
    number: &str,
    ticket: TicketState,
    already: bool,
    rating: &str,
    comment: Option<&str>,
) -> Result<(Rating, Option<String>), CaseError> {
    check_rating_of(
        number,
        ticket == TicketState::Done,
        ticket,
        already,
        (rating, RatingSource::Staff),
        comment,
    )
}

/// [`check_rating`] for any source: `open` says whether the ticket may be
/// rated now (staff and phones: finished; the evaluator: being served or
/// just finished). Staff choose among [`Rating::STAFF`], residents among
/// all five.
pub fn check_rating_of(
    number: &str,
    open: bool,
    ticket: TicketState,
    already: bool,
    (rating, source): (&str, RatingSource),
    comment: Option<&str>,
) -> Result<(Rating, Option<String>), CaseError> {
    if !open {
        return Err(CaseError::NotFinished {
            number: number.to_string(),
            state: ticket.label(),
        });
    }
    if already {
        return Err(CaseError::AlreadyRated(number.to_string()));
    }
    let offered: &[Rating] = if source.is_resident() {
        &Rating::ALL
    } else {
        &Rating::STAFF
    };
    let r = Rating::parse(rating)
        .filter(|r| offered.contains(r))
        .ok_or_else(|| {
            let words = if source.is_resident() {
                "非常满意、满意、基本满意、不满意 或 非常不满意"
            } else {
                "满意、基本满意 或 不满意"
            };
            CaseError::BadRating(rating.to_string(), words)
        })?;
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_TEXT) {
        return Err(CaseError::TooLong);
    }
    Ok((r, comment.map(str::to_string)))
}

/// One entry of a ticket's timeline: queue events, case events and the
/// rating, merged in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When, milliseconds since the epoch.
    pub at_ms: i64,
    /// `queue` (the journal) or `case`.
    pub source: String,
    /// What happened (`issued`, `called`, `assigned`, `note`, `rated`, ...).
    pub kind: String,
    /// The same, for staff screens (`取号`, `呼叫`, ...).
    pub label: String,
    /// Who did it (`kiosk`, `window:2`, `helper:h1`, `manager`, `system`);
    /// none for queue events journaled before actors were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The window concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u32>,
    /// Details: the helper, the note, the policy, the rating, the transfer.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

/// A queue event, and who did it (as journaled), as a timeline entry. The
/// issued ticket's progress token and identity hash are left out: staff
/// screens need neither.
pub fn queue_entry(ev: &Event, actor: Option<&str>) -> TimelineEntry {
    use serde_json::json;
    let (label, detail) = match ev {
        Event::Issued { ticket } => (
            "取号",
            json!({ "number": ticket.number, "lane": ticket.lane, "service": ticket.service }),
        ),
        Event::Called { reason, .. } => ("呼叫", json!({ "reason": reason })),
        Event::Recalled { .. } => ("重呼", serde_json::Value::Null),
        Event::Started { .. } => ("开始办理", serde_json::Value::Null),
        Event::Finished { .. } => ("办结", serde_json::Value::Null),
        Event::NoShow { .. } => ("过号", serde_json::Value::Null),
        Event::Rejoined { .. } => ("重新排队", serde_json::Value::Null),
        Event::Transferred {
            to_service,
            to_window,
            note,
            ..
        } => (
            "转办",
            json!({ "to_service": to_service, "to_window": to_window, "note": note }),
        ),
        Event::Upgraded { .. } => ("转入绿波通道", serde_json::Value::Null),
        Event::Cancelled { reason, .. } => (
            "取消",
            reason
                .as_ref()
                .map_or(serde_json::Value::Null, |r| json!({ "reason": r })),
        ),
        Event::Paused { .. } => ("暂停", serde_json::Value::Null),
        Event::Resumed { .. } => ("恢复", serde_json::Value::Null),
        Event::DayRolledOver { .. } => ("过期", serde_json::Value::Null),
    };
    TimelineEntry {
        at_ms: ev.at().0,
        source: "queue".into(),
        kind: ev.kind().into(),
        label: label.into(),
        actor: actor.map(str::to_string),
        window: ev.window(),
        detail,
    }
}

/// A case event as a timeline entry.
pub fn case_entry(ev: &CaseEvent) -> TimelineEntry {
    use serde_json::json;
    let (label, detail) = match &ev.kind {
        CaseEventKind::Opened => ("建立协办案件", serde_json::Value::Null),
        CaseEventKind::Assigned { helper } => ("分配协办员", json!({ "helper": helper })),
        CaseEventKind::Note { text } => ("进展备注", json!({ "text": text })),
        CaseEventKind::PolicyExplained { policy, title } => {
            ("政策解读", json!({ "policy": policy, "title": title }))
        }
        CaseEventKind::Closed => ("结案", serde_json::Value::Null),
        CaseEventKind::ResidentCalled => ("居民请协办员过去", serde_json::Value::Null),
        CaseEventKind::CallAnswered => ("协办员已回应", serde_json::Value::Null),
        CaseEventKind::Follows { number, day } => {
            ("接续上次来访", json!({ "number": number, "day": day }))
        }
        CaseEventKind::FollowUp { reason, missing } => (
            reason.label(),
            json!({ "reason": reason, "missing": missing }),
        ),
    };
    TimelineEntry {
        at_ms: ev.at.0,
        source: "case".into(),
        kind: ev.kind.name().into(),
        label: label.into(),
        actor: Some(ev.actor.clone()),
        window: None,
        detail,
    }
}

/// A rating as a timeline entry.
pub fn rating_entry(r: &RatingRecord) -> TimelineEntry {
    TimelineEntry {
        at_ms: r.at.0,
        source: "case".into(),
        kind: "rated".into(),
        label: "满意度评价".into(),
        actor: Some(r.by.clone()),
        window: None,
        detail: serde_json::json!({ "rating": r.rating, "comment": r.comment }),
    }
}

/// Merges a ticket's journal, its case events and its rating in time order;
/// at the same instant the queue's event comes first (a ticket is issued
/// before its case is assigned).
pub fn timeline(
    journal: &[(Event, Option<String>)],
    case: &[CaseEvent],
    rating: Option<&RatingRecord>,
) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = journal
        .iter()
        .map(|(e, actor)| queue_entry(e, actor.as_deref()))
        .collect();
    out.extend(case.iter().map(case_entry));
    out.extend(rating.map(rating_entry));
    out.sort_by_key(|e| e.at_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(id: &str, on: bool, n: u32) -> HelperLoad {
        HelperLoad {
            id: id.into(),
            on_duty: on,
            open_cases: n,
        }
    }

    #[test]
    fn fewest_open_cases_on_duty_ties_by_order() {
        assert_eq!(pick_helper(&[]), None);
        assert_eq!(pick_helper(&[load("a", false, 0)]), None);
        assert_eq!(
            pick_helper(&[load("a", true, 1), load("b", true, 1)]),
            Some("a")
        );
        assert_eq!(
            pick_helper(&[load("a", true, 2), load("b", true, 1)]),
            Some("b")
        );
        assert_eq!(
            pick_helper(&[load("a", true, 5), load("b", false, 0)]),
            Some("a")
        );
    }

    #[test]
    fn backlog_is_spread() {
        let got = backlog_order(
            &[load("a", true, 1), load("b", true, 0), load("c", false, 0)],
            &[CaseId(1), CaseId(2), CaseId(3)],
        );
        let who: Vec<&str> = got.iter().map(|(_, h)| h.as_str()).collect();
        assert_eq!(who, ["b", "a", "b"]);
        assert!(backlog_order(&[load("a", false, 0)], &[CaseId(1)]).is_empty());
    }

    fn case(helper: Option<&str>, closed: bool) -> Case {
        Case {
            id: CaseId(1),
            ticket_id: crate::queue::TicketId(1),
            helper: helper.map(str::to_string),
            opened_at: Timestamp(0),
            closed_at: closed.then_some(Timestamp(1)),
        }
    }

    #[test]
    fn lifecycle_rules() {
        assert_eq!(check_take(&case(None, false), "GA001", "a"), Ok(true));
        assert_eq!(check_take(&case(Some("a"), false), "GA001", "a"), Ok(false));
        assert!(matches!(
            check_take(&case(Some("b"), false), "GA001", "a"),
            Err(CaseError::NotYours { .. })
        ));
        assert!(matches!(
            check_take(&case(None, true), "GA001", "a"),
            Err(CaseError::Closed(_))
        ));
        let me = Actor::Helper("a".into());
        assert!(check_work(&case(Some("a"), false), "GA001", &me).is_ok());
        assert!(matches!(
            check_work(&case(None, false), "GA001", &me),
            Err(CaseError::Unassigned(_))
        ));
        assert!(check_work(&case(None, false), "GA001", &Actor::Manager).is_ok());
        assert!(matches!(
            check_close(&case(Some("a"), false), "GA001", &me, TicketState::Serving),
            Err(CaseError::TicketOpen { .. })
        ));
        assert!(check_close(&case(Some("a"), false), "GA001", &me, TicketState::Done).is_ok());
    }

    #[test]
    fn ratings() {
        assert_eq!(
            check_rating("A1", TicketState::Done, false, "基本满意", Some("  ")),
            Ok((Rating::FairlySatisfied, None))
        );
        assert!(matches!(
            check_rating("A1", TicketState::Serving, false, "满意", None),
            Err(CaseError::NotFinished { .. })
        ));
        assert!(matches!(
            check_rating("A1", TicketState::Done, true, "满意", None),
            Err(CaseError::AlreadyRated(_))
        ));
        assert!(matches!(
            check_rating("A1", TicketState::Done, false, "很好", None),
            Err(CaseError::BadRating(..))
        ));
        assert_eq!(
            serde_json::to_value(Rating::Dissatisfied).unwrap(),
            "不满意"
        );
    }

    /// The first helper on duty took all five waiting cases; the second
    /// comes on duty: the first keeps three (one of them started), the
    /// second gets the two newest unstarted ones.
    #[test]
    fn rebalancing_shares_unstarted_cases_and_keeps_started_ones() {
        let helpers = [load("h1", true, 5), load("h2", true, 0)];
        let movable: Vec<(CaseId, String)> = (2..=5).map(|i| (CaseId(i), "h1".into())).collect();
        assert_eq!(
            rebalance(&helpers, &movable),
            vec![(CaseId(5), "h2".into()), (CaseId(4), "h2".into())]
        );
        // One more than another is fair enough; nobody moves.
        assert!(rebalance(&[load("h1", true, 3), load("h2", true, 2)], &movable).is_empty());
        // Only started cases: nothing to move.
        assert!(rebalance(&[load("h1", true, 5), load("h2", true, 0)], &[]).is_empty());
        // An off-duty helper receives nothing.
        assert!(rebalance(&[load("h1", true, 5), load("h2", false, 0)], &movable).is_empty());
    }

    fn ev(at: i64, kind: CaseEventKind) -> CaseEvent {
        CaseEvent {
            at: Timestamp(at),
            actor: "x".into(),
            kind,
        }
    }

    #[test]
    fn a_resident_call_stays_open_until_the_helper_responds() {
        use CaseEventKind as K;
        let mut evs = vec![ev(1, K::Opened), ev(1, K::Assigned { helper: "a".into() })];
        assert_eq!(open_resident_call(&evs), None);
        let c = case(Some("a"), false);
        assert_eq!(check_resident_call(&c, "GA001", &evs), Ok(true));
        evs.push(ev(5, K::ResidentCalled));
        evs.push(ev(7, K::ResidentCalled));
        evs.push(ev(8, K::Assigned { helper: "b".into() }));
        // The first call counts; a reassignment does not answer it.
        assert_eq!(open_resident_call(&evs), Some(Timestamp(5)));
        assert_eq!(check_resident_call(&c, "GA001", &evs), Ok(false));
        for answer in [
            K::CallAnswered,
            K::Note { text: "n".into() },
            K::PolicyExplained {
                policy: "p".into(),
                title: "t".into(),
            },
            K::Closed,
        ] {
            let mut e = evs.clone();
            e.push(ev(9, answer));
            assert_eq!(open_resident_call(&e), None);
            e.push(ev(10, K::ResidentCalled));
            assert_eq!(open_resident_call(&e), Some(Timestamp(10)));
        }
        assert_eq!(
            check_resident_call(&case(None, false), "GA001", &[]),
            Err(CaseError::NoHelper("GA001".into()))
        );
        assert_eq!(
            check_resident_call(&case(Some("a"), true), "GA001", &[]),
            Err(CaseError::Closed("GA001".into()))
        );
    }

    #[test]
    fn case_events_keep_their_stored_form() {
        // Stored rows are this JSON (store/src/cases.rs): older kinds read
        // as before, the new ones are unit variants with their own tag.
        for (kind, json) in [
            (CaseEventKind::Opened, r#"{"kind":"opened"}"#),
            (CaseEventKind::Closed, r#"{"kind":"closed"}"#),
            (
                CaseEventKind::Note { text: "x".into() },
                r#"{"kind":"note","text":"x"}"#,
            ),
            (
                CaseEventKind::ResidentCalled,
                r#"{"kind":"resident_called"}"#,
            ),
            (CaseEventKind::CallAnswered, r#"{"kind":"call_answered"}"#),
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), json);
            assert_eq!(serde_json::from_str::<CaseEventKind>(json).unwrap(), kind);
        }
    }

    #[test]
    fn timeline_is_in_time_order_queue_first() {
        let j = [(
            Event::Cancelled {
                id: crate::queue::TicketId(1),
                reason: None,
                at: Timestamp(10),
            },
            Some("window:1".to_string()),
        )];
        let c = [
            CaseEvent {
                at: Timestamp(10),
                actor: "system".into(),
                kind: CaseEventKind::Opened,
            },
            CaseEvent {
                at: Timestamp(5),
                actor: "helper:a".into(),
                kind: CaseEventKind::Note { text: "x".into() },
            },
        ];
        let kinds: Vec<String> = timeline(&j, &c, None).into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["note", "cancelled", "case_opened"]);
    }
}
