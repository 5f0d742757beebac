//! TLS for the simulator: the rustls client configuration and what a failure means.
//!
//! The device presents its chain (leaf, then the signing CA) and checks the server against
//! `--server-ca` or the system's roots. TLS 1.3 sends a server's verdict on the client
//! certificate after the handshake, so a rejected device certificate surfaces as an alert
//! while reading CONNACK, wrapped in rumqttc's state and serialization errors; [`classify`]
//! digs the rustls or I/O error out of that chain and says which endpoint, which
//! certificate and which CA were involved.

use std::sync::Arc;

use rumqttc::{ConnectReturnCode, ConnectionError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::net::Failure;
use super::{Identity, Plan};

pub(super) fn tls_config(
    plan: &Plan,
    identity: &Identity,
) -> Result<Arc<rustls::ClientConfig>, Failure> {
    let bad = |file: &str, what: &str, e: &dyn std::fmt::Display| {
        Failure::new("simulate-certificate", format!("`{file}`: {what}: {e}"))
    };
    let mut roots = rustls::RootCertStore::empty();
    if let Some((file, pem)) = &plan.server_ca {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| bad(file, "not a PEM certificate", &e))?;
            roots
                .add(cert)
                .map_err(|e| bad(file, "not a usable CA certificate", &e))?;
        }
        if roots.is_empty() {
            return Err(Failure::new(
                "simulate-certificate",
                format!("`{file}` holds no certificate"),
            )
            .hint("`--server-ca` takes the PEM of the CA that signed the broker's certificate"));
        }
    } else {
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
            return Err(Failure::new(
                "simulate-certificate",
                "the system has no trusted root certificates to check the server with",
            )
            .hint("install ca-certificates, or pass `--server-ca FILE`"));
        }
    }
    let chain = CertificateDer::pem_slice_iter(&identity.chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&identity.chain_file, "not a PEM certificate chain", &e))?;
    if chain.is_empty() {
        return Err(Failure::new(
            "simulate-certificate",
            format!("`{}` holds no certificate", identity.chain_file),
        ));
    }
    if String::from_utf8_lossy(&identity.key_pem).contains("ENCRYPTED PRIVATE KEY") {
        return Err(Failure::new(
            "simulate-certificate",
            format!("`{}` is encrypted", identity.key_file),
        )
        .hint("the simulator reads unencrypted device keys: issue simulated devices without `--device-passphrase-env`"));
    }
    let key = PrivateKeyDer::from_pem_slice(&identity.key_pem)
        .map_err(|e| bad(&identity.key_file, "not a PEM private key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::new("simulate-bug", e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| {
            bad(
                &identity.key_file,
                &format!("does not fit `{}`", identity.chain_file),
                &e,
            )
        })?;
    if let Some(protocol) = plan.alpn {
        // The cloud's broker picks MQTT by this protocol name (AWS IoT on 443).
        config.alpn_protocols = vec![protocol.as_bytes().to_vec()];
    }
    Ok(Arc::new(config))
}

/// The issuer of the first certificate in a chain, for hints.
fn issuer(identity: &Identity) -> Option<String> {
    let der = CertificateDer::pem_slice_iter(&identity.chain_pem)
        .next()?
        .ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
    Some(cert.issuer().to_string())
}

/// The TLS or I/O error under rumqttc's wrappers (state, serialization, TLS), if any.
fn root_cause(e: &ConnectionError) -> (Option<&rustls::Error>, Option<&std::io::Error>) {
    let mut tls = None;
    let mut io = None;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            tls = tls.or(Some(t));
        }
        if let Some(i) = err.downcast_ref::<std::io::Error>() {
            io = io.or(Some(i));
            // An io::Error hides its payload from `source()`.
            if let Some(t) = i.get_ref().and_then(|x| x.downcast_ref::<rustls::Error>()) {
                tls = tls.or(Some(t));
            }
        }
        cur = err.source();
    }
    (tls, io)
}

/// A connection error in the words of someone who has to fix it.
pub(super) fn classify(e: &ConnectionError, endpoint: &str, identity: &Identity) -> Failure {
    let cert = &identity.chain_file;
    let (tls, io) = root_cause(e);
    if let Some(t) = tls {
        return match t {
            rustls::Error::InvalidCertificate(why) => Failure::new(
                "simulate-server-certificate",
                format!("the server certificate of {endpoint} is not trusted: {why:?}"),
            )
            .hint("pass `--server-ca FILE` with the CA that signed the broker's certificate (AWS IoT and IoT Hub chain to public roots the system trusts)"),
            rustls::Error::AlertReceived(alert) => Failure {
                retry: true,
                ..Failure::new(
                    "simulate-client-certificate",
                    format!("{endpoint} rejected the device certificate `{cert}` (TLS alert: {alert:?})"),
                )
                .hint(match issuer(identity) {
                    Some(i) => format!("it was issued by `{i}`: the server must trust that CA (AWS: registered and active; DPS: verified and in the enrollment group; mosquitto: in `cafile`)"),
                    None => "the server must trust the CA that issued it".to_owned(),
                })
                .hint("the file must hold the device certificate followed by the signing CA, as `fleetform certs device` writes chain.pem")
            },
            other => Failure {
                retry: true,
                ..Failure::new("simulate-tls", format!("TLS with {endpoint} failed: {other}"))
            },
        };
    }
    if let Some(io) = io {
        use std::io::ErrorKind as K;
        return match io.kind() {
                K::ConnectionRefused => Failure::new(
                    "simulate-connect",
                    format!("connection refused by {endpoint}"),
                )
                .hint("nothing listens there: check `--endpoint` and `--port` (MQTT over TLS is 8883)"),
                K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                    Failure {
                        retry: true,
                        ..Failure::new(
                            "simulate-dropped",
                            format!("{endpoint} closed the connection of `{cert}`"),
                        )
                        .hint("AWS IoT closes connections whose certificate is unknown or inactive, or whose policy denies iot:Connect for the client id")
                    }
                }
                _ => Failure::new(
                    "simulate-connect",
                    format!("cannot connect to {endpoint}: {io}"),
                )
                .hint("check the host name in `--endpoint` (or the root's outputs) and the network"),
        };
    }
    match e {
        ConnectionError::ConnectionRefused(code) => Failure::new(
            "simulate-refused",
            format!("{endpoint} refused the MQTT connection of `{cert}`: {code:?}"),
        )
        .hint(match code {
            ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized => {
                "the broker did not accept the client id or user name for this certificate (IoT Hub: the device id must be the certificate's CN)"
            }
            _ => "check the client id and the broker's logs",
        }),
        ConnectionError::NetworkTimeout => Failure::new(
            "simulate-timeout",
            format!("connecting to {endpoint} timed out"),
        )
        .hint("check the host, the port and any firewall between here and it"),
        other => Failure::new("simulate-mqtt", format!("{endpoint}: {other}")),
    }
}
