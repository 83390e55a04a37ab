//! Connection errors in words a user can act on: which setting to check, and what the broker
//! or the TLS layer said. rumqttc nests rustls' reasons inside I/O errors, and under TLS 1.3
//! a refused client certificate only shows as an alert on the first read; this finds them.

use rumqttc::{ConnectReturnCode, ConnectionError, StateError};

/// A connection error in words a user can act on.
pub fn describe(e: &ConnectionError, host: &str, timeout_s: u64) -> String {
    match e {
        ConnectionError::ConnectionRefused(code) => match code {
            ConnectReturnCode::BadUserNamePassword => {
                "the broker refused the user name or password (check `username` and \
                 `password_file`)"
                    .into()
            }
            ConnectReturnCode::NotAuthorized => "the broker refused the login: not authorised \
                 (check `username`, `password_file` and the broker's access rules)"
                .into(),
            ConnectReturnCode::BadClientId => {
                "the broker refused the client id picket-<box_id> (try a shorter `box_id`)".into()
            }
            other => format!("the broker refused the connection ({other:?})"),
        },
        e if rustls_cause(e).is_some() => {
            format!("TLS with {host} failed: {}", tls_reason(e, host))
        }
        ConnectionError::Tls(t) => format!("TLS with {host} failed: {t}"),
        ConnectionError::Io(io) | ConnectionError::MqttState(StateError::Io(io)) => {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                "connection refused: nothing listens at that address and port".into()
            } else {
                format!("network: {io}")
            }
        }
        ConnectionError::NetworkTimeout => {
            format!("no answer within {timeout_s} s (network down, firewall, or wrong address?)")
        }
        ConnectionError::FlushTimeout => "the broker stopped reading (write timed out)".into(),
        ConnectionError::MqttState(StateError::ConnectionAborted) => {
            "the broker closed the connection".into()
        }
        ConnectionError::MqttState(StateError::AwaitPingResp) => {
            "the broker stopped answering keep-alive pings".into()
        }
        other => format!("protocol: {other}"),
    }
}

/// The rustls error somewhere in `e`'s chain: itself, a source, or inside an I/O error.
fn rustls_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>());
        if inner.is_some() {
            return inner;
        }
        cur = err.source();
    }
    None
}

/// The rustls reason behind a failed TLS connection, with a hint for the usual ones. A client
/// certificate the broker wants shows in the handshake under TLS 1.2, and as an alert on the
/// first read under TLS 1.3.
fn tls_reason(e: &ConnectionError, host: &str) -> String {
    use rustls::{CertificateError, Error as Tls};
    match rustls_cause(e) {
        Some(Tls::InvalidCertificate(CertificateError::UnknownIssuer)) => {
            "the broker's certificate is not signed by a CA in `ca_file` (UnknownIssuer)".into()
        }
        Some(Tls::InvalidCertificate(CertificateError::NotValidForName))
        | Some(Tls::InvalidCertificate(CertificateError::NotValidForNameContext { .. })) => {
            format!("the broker's certificate is not valid for the name {host}")
        }
        Some(Tls::InvalidCertificate(CertificateError::Expired))
        | Some(Tls::InvalidCertificate(CertificateError::ExpiredContext { .. })) => {
            "the broker's certificate has expired (or this box's clock is wrong)".into()
        }
        Some(Tls::AlertReceived(alert)) => format!(
            "the broker ended the handshake ({alert:?}): it may require a client certificate \
             (`client_cert`, `client_key`) or refuse this one"
        ),
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{AlertDescription, CertificateError, Error as Tls};
    use std::io;

    fn io_with(e: Tls) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    fn says(e: ConnectionError, want: &str) {
        let got = describe(&e, "hub.lan", 10);
        assert!(got.contains(want), "{e:?}: {got}");
    }

    #[test]
    fn refusals_name_the_settings_to_check() {
        says(
            ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized),
            "check `username`, `password_file`",
        );
        says(
            ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword),
            "refused the user name or password",
        );
        says(
            ConnectionError::Io(io::ErrorKind::ConnectionRefused.into()),
            "nothing listens at that address and port",
        );
        says(ConnectionError::NetworkTimeout, "no answer within 10 s");
    }

    #[test]
    fn tls_reasons_are_found_wherever_rumqttc_put_them() {
        says(
            ConnectionError::Tls(rumqttc::TlsError::Io(io_with(Tls::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )))),
            "TLS with hub.lan failed: the broker's certificate is not signed by a CA in `ca_file`",
        );
        says(
            ConnectionError::Tls(rumqttc::TlsError::TLS(Tls::InvalidCertificate(
                CertificateError::NotValidForName,
            ))),
            "not valid for the name hub.lan",
        );
        // TLS 1.3: the broker's refusal of a missing client certificate arrives on a read.
        says(
            ConnectionError::MqttState(StateError::Deserialization(rumqttc::mqttbytes::Error::Io(
                io_with(Tls::AlertReceived(AlertDescription::CertificateRequired)),
            ))),
            "it may require a client certificate (`client_cert`, `client_key`)",
        );
    }
}
