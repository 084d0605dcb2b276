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
