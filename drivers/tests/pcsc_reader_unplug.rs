//! The PC/SC priority-card watcher when the hardware misbehaves: the
//! reader unplugged and plugged back, a card pulled in the middle of its
//! read, the PC/SC service stopping. pcscd with vpcd cannot do the first
//! two, so these run against the scripted stack in `pcsc_support` (the
//! real stack is tested in `pcsc_vpcd.rs`). Short poll and backoff times
//! keep them fast; nothing sleeps for long.

mod pcsc_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use greenwave_drivers::card::{spawn_card_source, CardEvent, DeviceFault};
use greenwave_drivers::pcsc::{probe_with, PcscConfig, PcscError, PcscWatcher};
use pcsc_support::{Behaviour, FakePcsc};

const READER: &str = "ACS ACR122U PICC Interface 00 00";
/// Bound for one expected event (a loaded 2-core machine).
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long "nothing more happens" is watched: many polls at [`config`]'s
/// 20 ms.
const QUIET: Duration = Duration::from_millis(400);

fn config() -> PcscConfig {
    PcscConfig {
        reader: Some("ACR122U".into()),
        poll_ms: 20,
        read_timeout_ms: 2000,
        reconnect_initial_ms: 10,
        reconnect_max_ms: 40,
    }
}

struct Running {
    rx: Receiver<CardEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(fake: &FakePcsc) -> Running {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = spawn_card_source(
            Box::new(PcscWatcher::with_backend(config(), fake.backend())),
            Box::new(tx),
            Arc::clone(&stop),
        )
        .unwrap();
        Running {
            rx,
            stop,
            thread: Some(thread),
        }
    }

    fn next(&self, what: &str) -> CardEvent {
        match self.rx.recv_timeout(EVENT_TIMEOUT) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no event within {EVENT_TIMEOUT:?}: expected {what}")
            }
            Err(RecvTimeoutError::Disconnected) => panic!("watcher ended: expected {what}"),
        }
    }

    fn expect_card(&self, uid: &[u8]) {
        match self.next("PriorityCard") {
            CardEvent::PriorityCard { uid: got } => assert_eq!(got, uid),
            other => panic!("expected PriorityCard, got {other:?}"),
        }
    }

    fn expect_removed(&self) {
        let ev = self.next("Removed");
        assert!(
            matches!(ev, CardEvent::Removed { .. }),
            "expected Removed, got {ev:?}"
        );
    }

    /// The next event is a `DeviceError`; its fault.
    fn expect_device_error(&self) -> DeviceFault {
        match self.next("DeviceError") {
            CardEvent::DeviceError { fault, .. } => fault,
            other => panic!("expected DeviceError, got {other:?}"),
        }
    }

    fn expect_reconnected(&self) {
        let ev = self.next("Reconnected");
        assert!(
            matches!(ev, CardEvent::Reconnected { .. }),
            "expected Reconnected, got {ev:?}"
        );
    }

    /// No event for [`QUIET`], while the watcher keeps polling `fake`.
    fn expect_quiet(&self, fake: &FakePcsc) {
        let (calls, establishes) = (fake.status_calls(), fake.establishes());
        if let Ok(ev) = self.rx.recv_timeout(QUIET) {
            panic!("unexpected event {ev:?}");
        }
        let polled = fake.status_calls() - calls + fake.establishes() - establishes;
        assert!(polled >= 3, "the watcher stopped polling ({polled} calls)");
    }

    /// Stops the watcher; it must end within a second or so.
    fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let thread = self.thread.take().unwrap();
        let t = Instant::now();
        while !thread.is_finished() {
            assert!(t.elapsed() < Duration::from_secs(3), "stop not honoured");
            thread::sleep(Duration::from_millis(10));
        }
        thread.join().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Waits until the watcher has sent `n` APDUs in all.
fn wait_for_apdus(fake: &FakePcsc, n: usize) {
    let t = Instant::now();
    while fake.apdus() < n {
        assert!(
            t.elapsed() < EVENT_TIMEOUT,
            "the watcher never sent APDU {n}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn unplugging_the_reader_is_reported_once_and_cards_are_read_again_after_replugging() {
    let fake = FakePcsc::new(&[READER]);
    let w = Running::start(&fake);

    let uid_a = [0x04, 0xA2, 0x3B, 0x11];
    fake.insert(READER, &uid_a, Behaviour::Answer);
    w.expect_card(&uid_a);
    fake.remove(READER);
    w.expect_removed();

    fake.unplug(READER);
    let fault = w.expect_device_error();
    assert!(matches!(fault, DeviceFault::Disconnected(_)), "{fault}");
    assert!(fault.to_string().contains(READER), "{fault}");
    // Once, not at every poll, nor when other readers come and go.
    w.expect_quiet(&fake);
    fake.plug("Some Other Reader 00 00");
    w.expect_quiet(&fake);
    fake.unplug("Some Other Reader 00 00");
    w.expect_quiet(&fake);

    // Plugged back: the same watcher (never restarted) reads cards again.
    fake.plug(READER);
    w.expect_reconnected();
    let uid_b = [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];
    fake.insert(READER, &uid_b, Behaviour::Answer);
    w.expect_card(&uid_b);
    w.expect_quiet(&fake);
    fake.remove(READER);
    w.expect_removed();
    assert_eq!(fake.apdus(), 2, "one GET DATA per card");
    w.stop();
}

#[test]
fn a_reader_unplugged_with_a_card_on_it_reports_the_card_removed_then_the_reader_gone() {
    let fake = FakePcsc::new(&[READER]);
    let w = Running::start(&fake);

    let uid = [0x04, 0xEE, 0xEE, 0x01];
    fake.insert(READER, &uid, Behaviour::Answer);
    w.expect_card(&uid);
    fake.unplug(READER);
    w.expect_removed();
    let fault = w.expect_device_error();
    assert!(matches!(fault, DeviceFault::Disconnected(_)), "{fault}");
    w.expect_quiet(&fake);

    // Plugged back with the card already on it: read once.
    fake.plug(READER);
    fake.insert(READER, &uid, Behaviour::Answer);
    w.expect_reconnected();
    w.expect_card(&uid);
    w.expect_quiet(&fake);
    w.stop();
}

#[test]
fn a_reader_plugged_in_after_the_watcher_started_is_picked_up() {
    let fake = FakePcsc::new(&[]);
    let w = Running::start(&fake);

    let fault = w.expect_device_error();
    assert!(matches!(fault, DeviceFault::NotFound(_)), "{fault}");
    assert!(fault.to_string().contains("ACR122U"), "{fault}");
    w.expect_quiet(&fake);

    fake.plug(READER);
    w.expect_reconnected();
    let uid = [0x08, 0x01, 0x02, 0x03];
    fake.insert(READER, &uid, Behaviour::Answer);
    w.expect_card(&uid);
    w.stop();
}

#[test]
fn a_card_pulled_mid_read_gives_no_uid_and_the_next_card_is_read() {
    for pulled in [
        Behaviour::PulledMidApdu,
        Behaviour::PulledMidApduEmptyAnswer,
    ] {
        let fake = FakePcsc::new(&[READER]);
        let w = Running::start(&fake);

        fake.insert(READER, &[0xDE, 0xAD, 0xBE, 0xEF], pulled);
        wait_for_apdus(&fake, 1);
        assert!(!fake.has_card(READER), "{pulled:?}: the card left mid-APDU");
        // No UID, no "unreadable card" for the resident, no removal of a
        // card never reported, no device error: nothing at all.
        w.expect_quiet(&fake);

        let uid = [0x04, 0xC0, 0xFF, 0xEE];
        fake.insert(READER, &uid, Behaviour::Answer);
        w.expect_card(&uid);
        fake.remove(READER);
        w.expect_removed();
        assert_eq!(fake.apdus(), 2, "{pulled:?}");
        w.stop();
    }
}

#[test]
fn a_card_that_is_no_priority_card_is_reported_unreadable_once() {
    let fake = FakePcsc::new(&[READER]);
    let w = Running::start(&fake);

    fake.insert(READER, &[0x01, 0x02, 0x03, 0x04], Behaviour::Refuse);
    let ev = w.next("ReadFailed");
    assert!(matches!(ev, CardEvent::ReadFailed { .. }), "{ev:?}");
    w.expect_quiet(&fake);
    fake.remove(READER);
    w.expect_removed();
    w.stop();
}

#[test]
fn the_pcsc_service_stopping_is_reported_once_and_cards_are_read_when_it_is_back() {
    let fake = FakePcsc::new(&[READER]);
    let w = Running::start(&fake);

    let uid = [0x04, 0xD0, 0x0D, 0x01];
    fake.insert(READER, &uid, Behaviour::Answer);
    w.expect_card(&uid);

    fake.stop_service();
    // The card's state can no longer be known: Removed, then the error.
    w.expect_removed();
    let fault = w.expect_device_error();
    assert!(
        matches!(fault, DeviceFault::ServiceUnavailable(_)),
        "{fault}"
    );
    // Retried with backoff, reported once.
    w.expect_quiet(&fake);

    fake.start_service();
    w.expect_reconnected();
    // The card still on the reader is read again in the new session.
    w.expect_card(&uid);
    fake.remove(READER);
    w.expect_removed();
    w.stop();
}

#[test]
fn devices_probe_lists_the_readers_and_names_the_missing_one() {
    let fake = FakePcsc::new(&["Some Other Reader 00 00", READER]);
    let (names, chosen) = probe_with(&fake, &config()).unwrap();
    assert_eq!(names.len(), 2);
    assert_eq!(chosen, READER);

    fake.unplug(READER);
    assert!(matches!(
        probe_with(&fake, &config()),
        Err(PcscError::NoReader { filter: Some(f) }) if f == "ACR122U"
    ));
    fake.stop_service();
    assert!(matches!(
        probe_with(&fake, &config()),
        Err(PcscError::Service(pcsc::Error::NoService))
    ));
}
