//! Priority cards at the kiosk, in-process: a card bound to a roster entry
//! works like swiping that resident's ID card; an unbound card issues
//! nothing; a second presentation gives the same number.

mod common;

use std::sync::{Arc, Mutex};

use common::{TestHall, CIVIL, MEDICAL};
use greenwave::config::Config;
use greenwave::hall::{Hall, SystemClock};
use greenwave::kiosk::{Identity, Kiosk, KioskError, Outcome, PrintProblem, PriorityReason};
use greenwave::queue::{Identified, Lane};
use greenwave::roster::install::{import, ImportOptions};
use greenwave::store::Store;
use greenwave_drivers::idcard::sim::fake;

#[test]
fn a_bound_priority_card_works_like_the_id_card() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    greenwave::roster::keygen(d).unwrap();
    let listed = fake::resident(51);
    let other = fake::resident(52);
    std::fs::write(
        d.join("export.csv"),
        format!(
            "姓名,身份证号码,救助类别,有效期至\n甲,{},特困,\n",
            listed.id_number.expose()
        ),
    )
    .unwrap();
    TestHall::builder()
        .services(&[CIVIL, MEDICAL])
        .windows(&[(1, &["civil"])])
        .no_api()
        .extra("[roster]\npublic_key = \"roster-public.key\"\nhash_key = \"roster-hash.key\"")
        .write(&d.join("greenwave.toml"));
    let cfg = Config::load(&d.join("greenwave.toml")).unwrap();
    let rc = cfg.roster.clone().unwrap();
    let out = std::fs::File::create(d.join("r.gwr")).unwrap();
    greenwave::roster::prepare(
        &d.join("export.csv"),
        &rc.columns,
        &rc.categories,
        &greenwave::roster::load_hash_key(&d.join("roster-hash.key")).unwrap(),
        &greenwave::roster::load_signing_key(&d.join("roster-signing.key")).unwrap(),
        1,
        chrono::Utc::now(),
        &Default::default(),
        out,
    )
    .unwrap();
    std::fs::create_dir_all(&cfg.data_dir).unwrap();
    let mut store = Store::open(&cfg.database_path()).unwrap();
    import(
        &mut store,
        &cfg.data_dir,
        &rc,
        &d.join("r.gwr"),
        &ImportOptions::default(),
    )
    .unwrap();
    drop(store);

    let hall = Arc::new(Mutex::new(Hall::open(&cfg, Arc::new(SystemClock)).unwrap()));
    let (mut kiosk, desk) = Kiosk::in_process(&cfg, hall.clone(), None, Arc::new(|_| {})).unwrap();
    // Two services and no default: a swipe waits for the service key.
    let who = Identity::IdCard {
        id: listed.id_number.as_gb11643().unwrap().clone(),
        birth: listed.birth_date,
    };
    assert!(matches!(kiosk.serve(who, None), Outcome::ChooseService));
    match kiosk.key("2").unwrap() {
        Outcome::Ticket { ticket, .. } => assert_eq!(ticket.number, "GB001"),
        o => panic!("{o:?}"),
    }
    let uid = vec![0x04, 0x11, 0x22, 0x33];

    // Unbound: nothing issued.
    match kiosk.serve(Identity::PriorityCard { uid: uid.clone() }, Some("civil")) {
        Outcome::CardNotBound => {}
        o => panic!("{o:?}"),
    }
    assert_eq!(hall.lock().unwrap().queue().tickets().len(), 1);

    // Binding someone not on the roster is refused.
    let refused = desk.bind_card(
        &uid,
        other.id_number.as_gb11643().unwrap(),
        &greenwave::hall::Actor::Manager,
    );
    assert!(
        matches!(refused, Err(KioskError::Refused(_))),
        "{refused:?}"
    );

    desk.bind_card(
        &uid,
        listed.id_number.as_gb11643().unwrap(),
        &greenwave::hall::Actor::Manager,
    )
    .unwrap();
    let first = match kiosk.serve(Identity::PriorityCard { uid: uid.clone() }, Some("civil")) {
        Outcome::Ticket {
            ticket,
            reason,
            print,
            ..
        } => {
            assert_eq!(ticket.lane, Lane::Priority);
            assert!(
                matches!(reason, Some(PriorityReason::Roster { .. })),
                "{reason:?}"
            );
            assert_eq!(
                ticket.identified,
                Some(Identified::PriorityCard),
                "the statistics count the card, not the ID card"
            );
            assert_eq!(
                print,
                Err(PrintProblem::NotConfigured),
                "no printer configured"
            );
            ticket.number.clone()
        }
        o => panic!("{o:?}"),
    };
    assert_eq!(first, "GA001");

    // The same resident with the ID card: the same open ticket.
    let who = Identity::IdCard {
        id: listed.id_number.as_gb11643().unwrap().clone(),
        birth: listed.birth_date,
    };
    match kiosk.serve(who, Some("civil")) {
        Outcome::Ticket {
            ticket, reprint, ..
        } => {
            assert!(reprint);
            assert_eq!(ticket.number, "GA001");
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(hall.lock().unwrap().queue().tickets().len(), 2);
}
