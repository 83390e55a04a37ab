//! `[uplink] url`: `mqtt://host:port` (plain TCP) or `mqtts://host:port` (TLS), nothing more.
//!
//! Parsed by hand rather than with the `url` crate: `mqtt:` is not one of its special schemes, so
//! it would accept paths, credentials and malformed hosts that a broker address must not have,
//! and its errors cannot say which part is wrong. The port defaults to 1883 (`mqtt`) or 8883
//! (`mqtts`).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// Where the broker is and whether the link is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// `mqtts://`: TLS, verified against `ca_file`.
    pub tls: bool,
    /// A DNS name, an IPv4 address, or an IPv6 address in brackets (`[::1]`), as written.
    pub host: String,
    pub port: u16,
}

impl BrokerUrl {
    /// Parses `s`; the error says what is wrong, for `picket check` to show at the value.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(r) = s.strip_prefix("mqtts://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("mqtt://") {
            (false, r)
        } else {
            return Err(format!(
                "`{s}` is not an MQTT URL: write mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS"
            ));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(format!(
                "`{s}`: only mqtt[s]://HOST:PORT, without a path, query or fragment"
            ));
        }
        if authority.contains('@') {
            return Err(format!(
                "`{s}`: no credentials in the URL; set `username`, and the password in \
                 `password_file`"
            ));
        }
        let (host, port) = split_host_port(authority).map_err(|why| format!("`{s}`: {why}"))?;
        let port = match port {
            None => {
                if tls {
                    8883
                } else {
                    1883
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(format!("`{s}`: port `{p}` is not a number from 1 to 65535")),
            },
        };
        if tls && host.starts_with('[') {
            return Err(format!(
                "`{s}`: TLS needs a host name or IPv4 address the certificate names, not an \
                 IPv6 literal"
            ));
        }
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
        })
    }

    /// Whether the host is this machine: `localhost`, 127.0.0.0/8 or `::1`. Names are not
    /// resolved: only these spellings count.
    pub fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// `host[:port]` with a bracketed IPv6 host allowed; checks the host's characters.
fn split_host_port(a: &str) -> Result<(&str, Option<&str>), String> {
    let (host, port) = if a.starts_with('[') {
        let end = a.find(']').ok_or("an IPv6 address needs its closing `]`")?;
        let (h, rest) = a.split_at(end + 1);
        let inner = &h[1..h.len() - 1];
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(format!("`{inner}` is not an IPv6 address"));
        }
        match rest.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if rest.is_empty() => (h, None),
            None => return Err(format!("unexpected `{rest}` after the host")),
        }
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    if !host.starts_with('[') {
        let ok = host.len() <= 253
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(is_host_byte))
            && !host.starts_with('-');
        if !ok {
            return Err(format!("`{host}` is not a host name or IP address"));
        }
    }
    Ok((host, port))
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> BrokerUrl {
        BrokerUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn schemes_hosts_and_ports_parse() {
        let u = ok("mqtt://broker.lan:1884");
        assert_eq!(
            (u.tls, u.host.as_str(), u.port),
            (false, "broker.lan", 1884)
        );
        let u = ok("mqtts://10.0.0.2");
        assert_eq!((u.tls, u.host.as_str(), u.port), (true, "10.0.0.2", 8883));
        assert_eq!(ok("mqtt://localhost/").port, 1883);
        let u = ok("mqtt://[::1]:1999");
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 1999));
        assert_eq!(u.to_string(), "mqtt://[::1]:1999");
        assert_eq!(ok("mqtts://hub:8884").to_string(), "mqtts://hub:8884");
    }

    #[test]
    fn loopback_is_only_this_machine() {
        for s in [
            "mqtt://localhost",
            "mqtt://127.0.0.1",
            "mqtt://127.9.9.9",
            "mqtt://[::1]",
        ] {
            assert!(ok(s).is_loopback(), "{s}");
        }
        for s in [
            "mqtt://10.0.0.2",
            "mqtt://broker.lan",
            "mqtt://[fe80::1]",
            "mqtt://localhost.evil",
        ] {
            assert!(!ok(s).is_loopback(), "{s}");
        }
    }

    #[test]
    fn malformed_urls_say_what_is_wrong() {
        let cases = [
            ("http://broker:1883", "not an MQTT URL"),
            ("broker:1883", "not an MQTT URL"),
            ("mqtt://", "no host"),
            ("mqtt://:1883", "no host"),
            ("mqtt://broker:0", "port `0`"),
            ("mqtt://broker:99999", "port `99999`"),
            ("mqtt://broker:abc", "port `abc`"),
            ("mqtt://user:pw@broker", "no credentials"),
            ("mqtt://broker/topic", "without a path"),
            ("mqtt://bro ker", "not a host name"),
            ("mqtt://[::1", "closing `]`"),
            ("mqtt://[zz]:1", "not an IPv6"),
            ("mqtts://[::1]:8883", "IPv6 literal"),
            ("mqtt://a..b", "not a host name"),
        ];
        for (s, want) in cases {
            let e = BrokerUrl::parse(s).unwrap_err();
            assert!(e.contains(want), "{s}: {e}");
        }
    }
}
