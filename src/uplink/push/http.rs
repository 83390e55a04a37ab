//! One sink's HTTP client (ureq, blocking, on the sink's own thread): no redirects followed,
//! responses read to at most [`MAX_RESPONSE`] bytes, HTTPS through the uplink's rustls config
//! (system roots or `ca_file`), the bearer token when there is one.

use super::super::files::Password;
use super::format::Request;
use rustls::ClientConfig;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

/// The most bytes of a response that are read.
pub const MAX_RESPONSE: u64 = 64 * 1024;

/// Why a request was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A 3xx or 4xx answer: only the owner can fix it (token, topic, address). Retried slowly.
    Refused(String),
    /// A 5xx answer or a network error. Retried with backoff.
    Trouble(String),
}

/// A client for one URL.
pub struct Http {
    agent: ureq::Agent,
    url: String,
    token: Option<Password>,
}

impl Http {
    pub fn new(
        url: &str,
        token: Option<Password>,
        tls: Option<Arc<ClientConfig>>,
        timeout: Duration,
    ) -> Self {
        let mut b = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(timeout)
            .user_agent(concat!("picket/", env!("CARGO_PKG_VERSION")));
        if let Some(tls) = tls {
            b = b.tls_config(tls);
        }
        Self {
            agent: b.build(),
            url: url.to_owned(),
            token,
        }
    }

    /// Sends `r`; `Ok` only for a 2xx answer.
    pub fn send(&self, r: &Request) -> Result<(), Failure> {
        let mut req = self.agent.request(r.method, &self.url);
        for (k, v) in &r.headers {
            req = req.set(k, v);
        }
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {}", t.expose()));
        }
        match req.send_bytes(&r.body) {
            Ok(resp) => {
                let status = resp.status();
                let body = excerpt(resp);
                if (200..300).contains(&status) {
                    Ok(())
                } else {
                    Err(Failure::Refused(format!(
                        "answered {status} (redirects are not followed){body}"
                    )))
                }
            }
            Err(ureq::Error::Status(status, resp)) => {
                let why = format!("answered {status}{}", excerpt(resp));
                Err(if status >= 500 {
                    Failure::Trouble(why)
                } else {
                    Failure::Refused(why)
                })
            }
            Err(ureq::Error::Transport(t)) => {
                let why = t.to_string();
                let prefix = format!("{}: ", self.url);
                Err(Failure::Trouble(
                    why.strip_prefix(&prefix).unwrap_or(&why).to_owned(),
                ))
            }
        }
    }
}

/// `: <the first line of the body>` (at most 200 characters), or nothing for an empty body.
fn excerpt(resp: ureq::Response) -> String {
    let mut buf = Vec::new();
    // A body that breaks off is shown as far as it came.
    let _ = resp.into_reader().take(MAX_RESPONSE).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let line: String = text
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line}")
    }
}
