//! Where picket's log lines go and how they are marked. On a terminal or a pipe: env_logger's
//! usual lines, with a millisecond timestamp. Under systemd, whose journal takes stderr as a
//! stream: each line opens with its syslog priority (`<3>` error, `<4>` warn, `<6>` info,
//! `<7>` debug and trace, sd-daemon(3)), which journald strips and keeps as the entry's
//! `PRIORITY`, so `journalctl -u picket -p warning` shows picket's warnings. Without it every line
//! lands at the unit's `SyslogLevel=`, info. journald stamps the time itself.

use std::io::Write;
use std::os::unix::fs::MetadataExt;

/// Installs the logger: `RUST_LOG` filters, `info` when unset.
pub fn init() {
    let mut b = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if stderr_is_journal() {
        b.format(|buf, rec| {
            writeln!(
                buf,
                "{}{} {}: {}",
                syslog_prefix(rec.level()),
                rec.level(),
                rec.target(),
                rec.args()
            )
        });
    } else {
        b.format_timestamp_millis();
    }
    b.init();
}

/// The sd-daemon(3) prefix of a line at `level`.
pub fn syslog_prefix(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "<3>",
        log::Level::Warn => "<4>",
        log::Level::Info => "<6>",
        log::Level::Debug | log::Level::Trace => "<7>",
    }
}

/// stderr is the journal's stream: `$JOURNAL_STREAM` (`DEVICE:INODE`, set by systemd) names the
/// file stderr is. A child that inherited the variable but not the stream is not fooled.
fn stderr_is_journal() -> bool {
    let Ok(want) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    std::fs::metadata("/proc/self/fd/2")
        .map(|m| journal_stream_is(&want, m.dev(), m.ino()))
        .unwrap_or(false)
}

/// `value` (`$JOURNAL_STREAM`) names the file with device `dev` and inode `ino`.
fn journal_stream_is(value: &str, dev: u64, ino: u64) -> bool {
    value.split_once(':').is_some_and(|(d, i)| {
        d.parse::<u64>().is_ok_and(|d| d == dev) && i.parse::<u64>().is_ok_and(|i| i == ino)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_gets_its_syslog_priority() {
        let got: Vec<_> = [
            log::Level::Error,
            log::Level::Warn,
            log::Level::Info,
            log::Level::Debug,
            log::Level::Trace,
        ]
        .map(syslog_prefix)
        .to_vec();
        assert_eq!(got, ["<3>", "<4>", "<6>", "<7>", "<7>"]);
    }

    #[test]
    fn journal_stream_must_name_stderrs_own_file() {
        assert!(journal_stream_is("8:12345", 8, 12345));
        assert!(!journal_stream_is("8:12345", 8, 12346));
        assert!(!journal_stream_is("9:12345", 8, 12345));
        assert!(!journal_stream_is("8", 8, 12345));
        assert!(!journal_stream_is("", 0, 0));
        assert!(!journal_stream_is("x:y", 0, 0));
    }
}
