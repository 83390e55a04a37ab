//! The broker connection keys `[uplink]` and `[hub]` share — `url`, `username`,
//! `password_file`, `ca_file`, `client_cert`, `client_key` — checked, resolved and made into
//! rumqttc options in one place, so that both sections mean the same by them.

use super::broker_url::BrokerUrl;
use super::files::{self, Password};
use super::UplinkError;
use crate::validate::{join, Report};
use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use rustls::ClientConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A section's connection keys, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub url: &'a str,
    pub username: Option<&'a str>,
    pub password_file: Option<&'a Path>,
    pub ca_file: Option<&'a Path>,
    pub client_cert: Option<&'a Path>,
    pub client_key: Option<&'a Path>,
}

/// The connection keys resolved: the broker, and the files read and checked.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub broker: BrokerUrl,
    pub username: Option<String>,
    pub password: Option<Password>,
    /// The rustls config, for `mqtts://`.
    pub tls: Option<Arc<ClientConfig>>,
}

impl Credentials<'_> {
    /// Reports every problem of the keys under `at`; returns the broker when the url parses.
    pub fn validate(&self, at: &str, report: &mut Report) -> Option<BrokerUrl> {
        let key = |k: &str| join(at, k);
        let broker = if self.url.is_empty() {
            report.error(
                key("url"),
                "required: the broker, e.g. mqtt://127.0.0.1:1883 or mqtts://hub.lan:8883",
            );
            None
        } else {
            BrokerUrl::parse(self.url)
                .map_err(|e| report.error(key("url"), e))
                .ok()
        };
        if self.username == Some("") {
            report.error(key("username"), "must not be empty; leave it out for none");
        }
        for (k, v) in [
            ("password_file", self.password_file),
            ("ca_file", self.ca_file),
            ("client_cert", self.client_cert),
            ("client_key", self.client_key),
        ] {
            if v.is_some_and(|p| !names_a_file(p)) {
                report.error(key(k), "must name a file");
            }
        }
        if self.password_file.is_some() && self.username.is_none() {
            report.error(
                key("password_file"),
                "a password needs a `username` (MQTT 3.1.1 has no password without one)",
            );
        }
        match (self.client_cert.is_some(), self.client_key.is_some()) {
            (true, false) => report.error(key("client_cert"), "needs `client_key` too"),
            (false, true) => report.error(key("client_key"), "needs `client_cert` too"),
            _ => {}
        }
        if let Some(b) = broker.as_ref().filter(|b| !b.tls) {
            if self.password_file.is_some() && !b.is_loopback() {
                report.error(
                    key("password_file"),
                    format!(
                        "the password would cross the network in clear text to {}: use \
                         mqtts://, or a broker on this machine (localhost, 127.0.0.1, [::1])",
                        b.host
                    ),
                );
            }
            for (k, set) in [
                ("ca_file", self.ca_file.is_some()),
                ("client_cert", self.client_cert.is_some()),
                ("client_key", self.client_key.is_some()),
            ] {
                if set {
                    report.error(key(k), "only used with mqtts://; the url is plain mqtt://");
                }
            }
        }
        broker
    }

    /// Parses the url and reads the password and TLS files (validated before).
    pub fn resolve(&self) -> Result<Resolved, UplinkError> {
        let broker = BrokerUrl::parse(self.url).map_err(|why| UplinkError::File {
            key: "url",
            path: PathBuf::from(self.url),
            why,
        })?;
        let password = self.password_file.map(files::read_password).transpose()?;
        let tls = if broker.tls {
            let client = self.client_cert.zip(self.client_key);
            Some(files::tls_config(self.ca_file, client)?)
        } else {
            None
        };
        Ok(Resolved {
            broker,
            username: self.username.map(str::to_owned),
            password,
            tls,
        })
    }
}

impl Resolved {
    /// rumqttc's options for `client_id` on this broker: keep-alive, credentials, TLS.
    pub fn mqtt_options(&self, client_id: String, keepalive: Duration) -> MqttOptions {
        let mut o = MqttOptions::new(client_id, &self.broker.host, self.broker.port);
        o.set_keep_alive(keepalive);
        if let Some(user) = &self.username {
            let password = self.password.as_ref().map_or("", |p| p.expose());
            o.set_credentials(user.as_str(), password);
        }
        if let Some(tls) = &self.tls {
            o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                tls.clone(),
            )));
        }
        o
    }
}

/// Not empty, not a directory (a trailing `/`).
pub fn names_a_file(p: &Path) -> bool {
    let s = p.as_os_str().to_string_lossy();
    !s.is_empty() && !s.ends_with('/')
}
