//! Printer URIs: `tcp://HOST:PORT`, `serial:///dev/ttyS1?baud=9600`,
//! `file:///dev/usb/lp0` and `stdout`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::error::PrinterError;

/// The default raw printing port (JetDirect / AppSocket).
pub const DEFAULT_TCP_PORT: u16 = 9100;
/// The default serial baud rate of ESC/POS printers.
pub const DEFAULT_BAUD: u32 = 9600;

/// Where the printer is, parsed from the configured URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterUri {
    /// A network printer; the host may be a name, an IPv4 or a bracketed IPv6
    /// literal. The port defaults to 9100.
    Tcp {
        /// Host name or IP literal (without brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A serial printer, 8N1 at `baud`.
    Serial {
        /// Device path, e.g. `/dev/ttyS1`.
        path: PathBuf,
        /// Baud rate (default 9600).
        baud: u32,
    },
    /// A write-only device such as `/dev/usb/lp0`: no status.
    File {
        /// Device path.
        path: PathBuf,
    },
    /// A text rendering on standard output, for demos.
    Stdout,
}

impl FromStr for PrinterUri {
    type Err = PrinterError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| PrinterError::InvalidUri {
            uri: uri.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = uri.trim();
        if trimmed == "stdout" || trimmed == "stdout://" {
            return Ok(PrinterUri::Stdout);
        }
        let Some((scheme, rest)) = trimmed.split_once("://") else {
            return Err(fail(
                "expected tcp://HOST:PORT, serial:///dev/PATH?baud=N, file:///dev/PATH or stdout",
            ));
        };
        match scheme {
            "tcp" => parse_tcp(rest).map_err(|r| fail(&r)),
            "serial" => {
                let (path, query) = match rest.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (rest, None),
                };
                let path = absolute_path(path).map_err(|r| fail(&r))?;
                let mut baud = DEFAULT_BAUD;
                for pair in query
                    .into_iter()
                    .flat_map(|q| q.split('&'))
                    .filter(|p| !p.is_empty())
                {
                    match pair.split_once('=') {
                        Some(("baud", value)) => {
                            baud = value
                                .parse()
                                .ok()
                                .filter(|b| (300..=4_000_000).contains(b))
                                .ok_or_else(|| {
                                    fail(&format!(
                                        "baud {value:?} is not a rate between 300 and 4000000"
                                    ))
                                })?;
                        }
                        _ => {
                            return Err(fail(&format!("unknown parameter {pair:?} (only baud=N)")))
                        }
                    }
                }
                Ok(PrinterUri::Serial { path, baud })
            }
            "file" => {
                if rest.contains('?') {
                    return Err(fail("file:// takes no parameters"));
                }
                Ok(PrinterUri::File {
                    path: absolute_path(rest).map_err(|r| fail(&r))?,
                })
            }
            other => Err(fail(&format!(
                "unknown scheme {other:?} (expected tcp, serial, file or stdout)"
            ))),
        }
    }
}

fn absolute_path(path: &str) -> Result<PathBuf, String> {
    if !path.starts_with('/') || path.len() < 2 {
        return Err(format!(
            "device path {path:?} must be absolute, e.g. serial:///dev/ttyS1"
        ));
    }
    Ok(PathBuf::from(path))
}

fn parse_tcp(rest: &str) -> Result<PrinterUri, String> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '@']) {
        return Err("expected tcp://HOST:PORT with nothing after the port".to_owned());
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("unclosed '[' in IPv6 address")?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(p.strip_prefix(':').ok_or("expected ':' after ']'")?),
            ),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((_, _)) if rest.matches(':').count() > 1 => {
                return Err("an IPv6 address must be in brackets: tcp://[::1]:9100".to_owned())
            }
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err("missing host".to_owned());
    }
    let port = match port {
        None => DEFAULT_TCP_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("port {p:?} is not a number between 1 and 65535"))?,
    };
    Ok(PrinterUri::Tcp {
        host: host.to_owned(),
        port,
    })
}

impl fmt::Display for PrinterUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterUri::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            PrinterUri::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            PrinterUri::Serial { path, baud } => {
                write!(f, "serial://{}?baud={baud}", path.display())
            }
            PrinterUri::File { path } => write!(f, "file://{}", path.display()),
            PrinterUri::Stdout => f.write_str("stdout"),
        }
    }
}
