//! The files `[uplink]` names, read once when `picket uplink` starts: the password, and the TLS
//! material (CA certificates, client certificate and key) made into a rustls client config.
//!
//! Secrets are checked before they are read: a password file or client key that is
//! group-writable or readable by anyone is refused, since anyone on the box could then log in as
//! the box or change what it logs in with. The password is never logged: [`Password`]'s `Debug`
//! hides it.

use super::UplinkError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

/// A secret read from a file: the broker password (`password_file`) or the command code
/// (`code_file`).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this secret, in a time that does not depend on where they differ.
    pub fn matches(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        let diff = a
            .iter()
            .zip(b)
            .fold(a.len() ^ b.len(), |d, (x, y)| d | usize::from(x ^ y));
        diff == 0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(hidden)")
    }
}

fn file_error(key: &'static str, path: &Path, why: impl Into<String>) -> UplinkError {
    UplinkError::File {
        key,
        path: path.to_owned(),
        why: why.into(),
    }
}

/// Refuses a secret file that others could read or change: mode bits `g+w` or `o+rwx`.
pub fn check_secret_mode(key: &'static str, path: &Path) -> Result<(), UplinkError> {
    let meta = std::fs::metadata(path).map_err(|e| file_error(key, path, e.to_string()))?;
    if !meta.is_file() {
        return Err(file_error(key, path, "not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o027 != 0 {
        let who = if mode & 0o007 != 0 {
            "anyone on this machine can read or change it"
        } else {
            "its group can change it"
        };
        return Err(file_error(
            key,
            path,
            format!("mode {mode:04o}: {who}; make it 0600 (or 0640 for a group that only reads)"),
        ));
    }
    Ok(())
}

/// Reads the password: the file's first line, without its line ending. Checks the mode first.
pub fn read_password(path: &Path) -> Result<Password, UplinkError> {
    secret_line("password_file", path, "password").map(Password)
}

/// Reads the command code (`code_file`) as [`read_password`] reads the password.
pub fn read_code(path: &Path) -> Result<Password, UplinkError> {
    secret_line("code_file", path, "code").map(Password)
}

/// Reads a push sink's bearer token (`token_file`) as [`read_password`] reads the password.
pub fn read_token(path: &Path) -> Result<Password, UplinkError> {
    secret_line("token_file", path, "token").map(Password)
}

/// The first line of the secret file `path` (`key` in the config), its mode checked first.
fn secret_line(key: &'static str, path: &Path, what: &str) -> Result<String, UplinkError> {
    check_secret_mode(key, path)?;
    let text = std::fs::read_to_string(path).map_err(|e| file_error(key, path, e.to_string()))?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(file_error(
            key,
            path,
            format!("empty: the {what} is its first line"),
        ));
    }
    Ok(line.to_owned())
}

/// A rustls client config (ring provider, TLS 1.2 and 1.3) trusting `ca_file`'s certificates, or
/// the system's CAs without one, and presenting the client certificate when given.
pub fn tls_config(
    ca_file: Option<&Path>,
    client: Option<(&Path, &Path)>,
) -> Result<Arc<ClientConfig>, UplinkError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(ca) => {
            for cert in certificates("ca_file", ca)? {
                roots
                    .add(cert)
                    .map_err(|e| file_error("ca_file", ca, format!("not a CA certificate: {e}")))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(file_error(
                    "ca_file",
                    Path::new("(system certificates)"),
                    "no trusted CA certificates found on this system; set `ca_file`",
                ));
            }
        }
    }
    // ring rather than aws-lc-rs, which needs cmake and a C toolchain per cross target.
    // rustls 0.23.48 deprecates ring's provider for its lack of post-quantum key exchange;
    // recorded traffic to a broker on the owner's network is not the threat that guards.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| UplinkError::Tls(e.to_string()))?
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = certificates("client_cert", cert)?;
            check_secret_mode("client_key", key)?;
            let der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                file_error("client_key", key, format!("no PEM private key in it ({e})"))
            })?;
            builder.with_client_auth_cert(chain, der).map_err(|e| {
                file_error("client_key", key, format!("does not fit client_cert: {e}"))
            })?
        }
    };
    Ok(Arc::new(config))
}

/// Every PEM certificate in `path`; at least one.
fn certificates(
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, UplinkError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error(key, path, e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error(key, path, "no PEM certificate in it"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdir::TestDir;

    fn with_mode(dir: &TestDir, name: &str, text: &str, mode: u32) -> std::path::PathBuf {
        let p = dir.write(name, text);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn the_password_is_the_first_line_and_never_shown() {
        let d = TestDir::new("uplink-pw");
        let p = with_mode(&d, "pw", "s3cret\n", 0o600);
        let pw = read_password(&p).unwrap();
        assert_eq!(pw.expose(), "s3cret");
        assert_eq!(format!("{pw:?}"), "Password(hidden)");
        let p = with_mode(&d, "pw2", "two words\r\nsecond line\n", 0o640);
        assert_eq!(read_password(&p).unwrap().expose(), "two words");
    }

    #[test]
    fn open_missing_or_empty_password_files_are_refused_by_name() {
        let d = TestDir::new("uplink-pw-bad");
        let cases = [
            (
                with_mode(&d, "world", "pw\n", 0o644),
                "mode 0644: anyone on this machine",
            ),
            (
                with_mode(&d, "groupw", "pw\n", 0o660),
                "mode 0660: its group can change it",
            ),
            (with_mode(&d, "empty", "\n", 0o600), "empty"),
            (d.path().join("missing"), "No such file"),
        ];
        for (path, want) in cases {
            let e = read_password(&path).unwrap_err().to_string();
            assert!(e.starts_with("[uplink] password_file "), "{e}");
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(e.contains(want), "{}: {e}", path.display());
            assert!(!e.contains("pw\n"), "{e}");
        }
    }

    #[test]
    fn the_code_is_read_like_the_password_and_compared_whole() {
        let d = TestDir::new("uplink-code");
        let code = read_code(&with_mode(&d, "code", "4711\n", 0o600)).unwrap();
        assert!(code.matches("4711"));
        for wrong in ["", "471", "47111", "4712", "0000"] {
            assert!(!code.matches(wrong), "{wrong}");
        }
        let e = read_code(&with_mode(&d, "open", "4711\n", 0o644))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("[uplink] code_file ") && e.contains("mode 0644"),
            "{e}"
        );
        assert!(!e.contains("4711\n"), "{e}");
        let e = read_code(&with_mode(&d, "none", "", 0o600))
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty: the code is its first line"), "{e}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let d = TestDir::new("uplink-ca");
        let p = d.write("ca.pem", "not a certificate\n");
        let e = tls_config(Some(&p), None).unwrap_err().to_string();
        assert!(e.contains("[uplink] ca_file"), "{e}");
        assert!(e.contains("no PEM certificate"), "{e}");
    }
}
