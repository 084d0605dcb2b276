//! The simulated card source from `open_card_source` (no pty): the real
//! driver against the in-process simulator, including a simulated unplug.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use greenwave_drivers::card::{spawn_card_source, CardEvent, DeviceFault};
use greenwave_drivers::idcard::sim::{fake, SimCard, SimControl};
use greenwave_drivers::sources::{open_card_source, CardSourceConfig};

const SOON: Duration = Duration::from_secs(15);

#[test]
fn simulated_source_reads_unplugs_and_recovers() {
    let control = SimControl::new();
    let source = open_card_source(&CardSourceConfig::SimulatedIdReader {
        control: control.clone(),
        poll_interval: Duration::from_millis(30),
    });
    assert_eq!(source.name(), "idcard:simulated");
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    // A closure sink, as the daemon would use to forward into tokio.
    let sink = move |ev: CardEvent| tx.send(ev).is_ok();
    let handle = spawn_card_source(source, Box::new(sink), stop.clone()).expect("thread");

    let person = fake::permit(21);
    control.place(SimCard::from_read(&person));
    match rx.recv_timeout(SOON) {
        Ok(CardEvent::IdCard(card)) => {
            assert_eq!(card, person);
            // Debug output carries no personal data.
            let dbg = format!("{card:?}");
            assert!(!dbg.contains(person.id_number.expose()));
            assert!(!dbg.contains(person.name.expose()));
        }
        other => panic!("expected a card, got {other:?}"),
    }

    control.unplug();
    assert!(matches!(
        rx.recv_timeout(SOON),
        Ok(CardEvent::Removed { .. })
    ));
    assert!(matches!(
        rx.recv_timeout(SOON),
        Ok(CardEvent::DeviceError { .. })
    ));
    control.plug_in();
    assert!(matches!(
        rx.recv_timeout(SOON),
        Ok(CardEvent::Reconnected { .. })
    ));
    match rx.recv_timeout(SOON) {
        Ok(CardEvent::IdCard(card)) => assert_eq!(card, person),
        other => panic!("expected a card, got {other:?}"),
    }

    stop.store(true, Ordering::Relaxed);
    handle.join().expect("source thread ends cleanly");
}

#[test]
fn mute_reader_is_reported_and_recovers() {
    use greenwave_drivers::card::CardSource;
    use greenwave_drivers::idcard::sim::SimConnector;
    use greenwave_drivers::idcard::{Baud, IdCardReader, IdReaderConfig, Timeouts};

    let control = SimControl::new();
    let config = IdReaderConfig {
        baud: Baud::Fixed(115_200),
        poll_interval: Duration::from_millis(20),
        timeouts: Timeouts {
            command: Duration::from_millis(300),
            find: Duration::from_millis(150),
            select: Duration::from_millis(300),
            read: Duration::from_millis(500),
        },
        unresponsive_after: 3,
        ..IdReaderConfig::default()
    };
    let source: Box<dyn CardSource> = Box::new(IdCardReader::with_connector(
        "idcard:test",
        config,
        Box::new(SimConnector::new(control.clone())),
    ));
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_card_source(source, Box::new(tx), stop.clone()).expect("thread");

    control.set_mute(true);
    match rx.recv_timeout(SOON) {
        Ok(CardEvent::DeviceError { device, fault }) => {
            assert_eq!(device, "idcard:test");
            assert!(matches!(fault, DeviceFault::NoAnswer(_)), "{fault}");
        }
        other => panic!("expected DeviceError, got {other:?}"),
    }
    control.set_mute(false);
    assert!(matches!(
        rx.recv_timeout(SOON),
        Ok(CardEvent::Reconnected { .. })
    ));
    let person = fake::resident(3);
    control.place(SimCard::from_read(&person));
    assert!(matches!(rx.recv_timeout(SOON), Ok(CardEvent::IdCard(c)) if c == person));

    stop.store(true, Ordering::Relaxed);
    handle.join().expect("source thread ends cleanly");
}

/// Regression: a SAM that fails from the start (here "SAM not authorised",
/// SW3 `66`) was taken for a reader with no card. The baud search cannot
/// get a SAM status: one `DeviceError` with a module fault, retried quietly,
/// then `Reconnected` when the SAM works, and cards are read.
#[test]
fn regression_a_sam_failing_from_the_start_is_a_module_fault_then_reconnected() {
    use greenwave_drivers::card::CardSource;
    use greenwave_drivers::idcard::sim::SimConnector;
    use greenwave_drivers::idcard::{Backoff, Baud, IdCardReader, IdReaderConfig};

    let control = SimControl::new();
    control.set_sam_fault(Some(0x66));
    let config = IdReaderConfig {
        baud: Baud::Auto,
        poll_interval: Duration::from_millis(20),
        reconnect: Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(50),
        },
        ..IdReaderConfig::default()
    };
    let source: Box<dyn CardSource> = Box::new(IdCardReader::with_connector(
        "idcard:test",
        config,
        Box::new(SimConnector::new(control.clone())),
    ));
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let handle = spawn_card_source(source, Box::new(tx), stop.clone()).expect("thread");

    let person = fake::resident(32);
    control.place(SimCard::from_read(&person));
    match rx.recv_timeout(SOON) {
        Ok(CardEvent::DeviceError { device, fault }) => {
            assert_eq!(device, "idcard:test");
            assert!(
                matches!(&fault, DeviceFault::ModuleFault(d) if d.contains("SW3=66")),
                "{fault}"
            );
        }
        other => panic!("expected DeviceError, got {other:?}"),
    }
    // Reopened every 50 ms meanwhile, and reported once.
    assert!(matches!(
        rx.recv_timeout(Duration::from_millis(500)),
        Err(mpsc::RecvTimeoutError::Timeout)
    ));
    assert_eq!(control.stats().reads, 0);
    control.set_sam_fault(None);
    assert!(matches!(
        rx.recv_timeout(SOON),
        Ok(CardEvent::Reconnected { .. })
    ));
    assert!(matches!(rx.recv_timeout(SOON), Ok(CardEvent::IdCard(c)) if c == person));

    stop.store(true, Ordering::Relaxed);
    handle.join().expect("source thread ends cleanly");
}
