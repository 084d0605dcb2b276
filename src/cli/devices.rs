//! `greenwave devices` (what is connected, for ops at install time) and
//! `greenwave print-test` (a sample ticket on the configured printer).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use greenwave_drivers::idcard::IdCardReader;
use greenwave_drivers::printer::{open_printer, PrinterError, PrinterState, TicketLayout};

use crate::config::{Config, IdReaderSetting};

/// The printer state in the words ops and staff use.
pub fn printer_state_label(s: PrinterState) -> &'static str {
    match s {
        PrinterState::Ready => "在线",
        PrinterState::PaperNearEnd => "纸将用完",
        PrinterState::PaperOut => "打印机缺纸",
        PrinterState::CoverOpen => "打印机盖未关",
        PrinterState::Offline => "打印机离线",
    }
}

pub(super) fn devices(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&Config::locate(config)?)?;
    let mut trouble = false;
    match &cfg.devices.id_reader {
        None => println!("读卡器    未配置"),
        Some(IdReaderSetting::Simulated { .. }) => println!("读卡器    模拟读卡器（演示模式）"),
        Some(IdReaderSetting::Ga467(rc)) => {
            let port = rc.port.display().to_string();
            match IdCardReader::new(rc.clone()).probe() {
                Ok(p) => println!(
                    "读卡器    {port}  已连接，SAM 正常（{} 波特{}）",
                    p.baud,
                    p.sam_id
                        .map(|id| format!("，SAM 号 {id}"))
                        .unwrap_or_default()
                ),
                Err(e) => {
                    trouble = true;
                    println!(
                        "读卡器    {port}  {}",
                        crate::kiosk::words::device_fault(&e)
                    );
                    println!("          ({e})");
                }
            }
        }
    }
    match &cfg.devices.pcsc {
        None => println!("优先卡    未配置"),
        Some(pc) => match greenwave_drivers::pcsc::probe(pc) {
            Ok((_, chosen)) => println!("优先卡    PC/SC 读卡器 {chosen} 已就绪"),
            Err(e) => {
                trouble = true;
                println!(
                    "优先卡    {}",
                    crate::kiosk::words::device_fault(&e.fault())
                );
                println!("          ({e})");
            }
        },
    }
    match &cfg.devices.printer {
        None => println!("打印机    未配置"),
        Some(pc) => {
            let mut p = open_printer(pc)?;
            match p.status() {
                Ok(st) => {
                    let state = st.state();
                    trouble |= !state.can_print();
                    println!("打印机    {}  {}", p.describe(), printer_state_label(state));
                }
                Err(PrinterError::StatusUnavailable) => {
                    println!(
                        "打印机    {}  已配置（此连接方式无法查询状态）",
                        p.describe()
                    )
                }
                Err(e) => {
                    trouble = true;
                    println!("打印机    {}  {e}", p.describe());
                }
            }
        }
    }
    Ok(if trouble {
        ExitCode::from(4)
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn print_test(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(&Config::locate(config)?)?;
    let pc =
        cfg.devices.printer.as_ref().with_context(|| {
            format!("{}: no [devices.printer] configured", cfg.source.display())
        })?;
    let mut p = open_printer(pc)?;
    let service = cfg
        .services
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let layout = TicketLayout {
        hall_name: cfg.hall_name.clone(),
        banner: Some(crate::kiosk::ticket::PRIORITY_BANNER.to_string()),
        number: format!("{}A000", cfg.priority_prefix),
        service_name: format!("{service}（测试票）"),
        ahead: "前面还有 0 人".to_string(),
        issued_at: chrono::Utc::now()
            .with_timezone(&cfg.day.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        details: vec!["请携带：身份证".into()],
        qr_payload: None,
        qr_caption: None,
        notices: vec!["打印测试：此票无效".into()],
    };
    match p.print(&layout) {
        Ok(()) => {
            println!("已在 {} 打印测试票", p.describe());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("打印失败（{}）：{e}", p.describe());
            Ok(ExitCode::from(4))
        }
    }
}
