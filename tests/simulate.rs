//! `fleetform simulate` against a real broker: a local mosquitto that requires client
//! certificates from the kit's CA, a second client that watches what arrives, and small fake
//! responders for the AWS fleet provisioning and Azure DPS exchanges.
//!
//! Mosquitto comes from Debian's `mosquitto` package (`.ci/run` installs it). Without it the
//! broker tests print a visible skip, or fail when `FLEETFORM_REQUIRE_TOOLS` is set.
//! One file (over the usual length) because every test shares the broker fixture and its
//! watching client; splitting it would copy them.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

fn fleetform(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetform"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `certs init` for the kit's CA in `<p>/certs`.
fn kit(p: &Path) {
    ok(&fleetform(
        p,
        &[
            "certs",
            "init",
            "--out",
            "certs",
            "--organization",
            "Acme",
            "--country",
            "DE",
        ],
    ));
}

fn example(name: &str) -> String {
    common::root()
        .join("examples")
        .join(name)
        .join("fleet.yaml")
        .display()
        .to_string()
}

fn mosquitto_binary() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")]);
    candidates
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
}

/// A running mosquitto; killed on drop.
struct Broker {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Broker {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The kit (`certs init`, device bundles, an observer), a broker certificate from a CA of
/// the test's own, and mosquitto requiring client certificates from the kit's root.
struct World {
    dir: tempfile::TempDir,
    broker: Broker,
}

impl World {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn new(devices: &[&str]) -> Option<Self> {
        let Some(mosquitto) = mosquitto_binary() else {
            common::skip("mosquitto", "not installed (apt-get install mosquitto)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        kit(p);
        // The watching and responding clients' bundle lives apart from the devices.
        ok(&fleetform(
            p,
            &["certs", "device", "--out", "watchers", "--id", "observer"],
        ));
        if !devices.is_empty() {
            let mut args = vec!["certs", "device", "--out", "devices"];
            for d in devices {
                args.extend(["--id", d]);
            }
            ok(&fleetform(p, &args));
        }
        broker_certificate(p);
        let port = free_port();
        let log = p.join("mosquitto.log");
        let conf = format!(
            "listener {port} 127.0.0.1\n\
             cafile {root}\n\
             certfile {dir}/broker.pem\n\
             keyfile {dir}/broker.key\n\
             require_certificate true\n\
             use_identity_as_username true\n\
             persistence false\n\
             user root\n\
             log_dest file {log}\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\n",
            // `user root`: run as root (CI containers), mosquitto would drop to its own user,
            // which cannot read the kit's 0700 key folders; as any other user it has no effect.
            // chain.pem: the signing CA and the root. The claim certificate arrives alone (AWS
            // knows it from register-certificate), so the broker needs its issuer too.
            root = p.join("certs/chain.pem").display(),
            dir = p.display(),
            log = log.display(),
        );
        std::fs::write(p.join("mosquitto.conf"), conf).unwrap();
        let child = Command::new(mosquitto)
            .arg("-c")
            .arg(p.join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let broker = Broker { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not start:\n{}",
                broker.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { dir, broker })
    }

    fn endpoint(&self) -> String {
        format!("localhost:{}", self.broker.port)
    }

    /// A client with the kit's `observer` certificate, subscribed to `filters`; what arrives
    /// goes to the returned channel.
    fn client(&self, id: &str, filters: &[&str]) -> (Client, mpsc::Receiver<(String, Vec<u8>)>) {
        let p = self.path();
        let read = |f: &str| std::fs::read(p.join(f)).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(&read("broker-ca.pem")) {
            roots.add(c.unwrap()).unwrap();
        }
        let chain: Vec<_> = CertificateDer::pem_slice_iter(&read("watchers/observer/chain.pem"))
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_slice(&read("watchers/observer/device.key")).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
        let mut o = MqttOptions::new(id, "localhost", self.broker.port);
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(config),
        )));
        o.set_max_packet_size(256 * 1024, 256 * 1024);
        let (client, mut conn) = Client::new(o, 64);
        for f in filters {
            client.subscribe(*f, QoS::AtLeastOnce).unwrap();
        }
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut pending = filters.len();
        std::thread::spawn(move || {
            for event in conn.iter() {
                match event {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        pending -= 1;
                        if pending == 0 {
                            let _ = ready_tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(m))) => {
                        if tx.send((m.topic.clone(), m.payload.to_vec())).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{id} did not subscribe:\n{}", self.broker.log()));
        (client, rx)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA unrelated to the kit, and a `localhost` server certificate from it.
fn broker_certificate(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "Test Broker CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("broker-ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("broker.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("broker.key"), key.serialize_pem()).unwrap();
}

fn collect(rx: &mpsc::Receiver<(String, Vec<u8>)>, n: usize) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    while out.len() < n {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok((t, p)) => out.push((t, serde_json::from_slice(&p).unwrap())),
            Err(_) => break,
        }
    }
    // Nothing beyond what was expected.
    if let Ok((t, _)) = rx.recv_timeout(Duration::from_millis(300)) {
        panic!("an unexpected extra message on `{t}`");
    }
    out
}

/// The `fleetform` lines of the README's simulate section, as written.
fn readme_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Simulating devices"))
        .expect("README has a `Simulating devices` section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the section has a sh block");
    block
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| l.starts_with("fleetform "))
        .map(|l| l.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect()
}

#[test]
fn mutual_tls_publishes_the_specs_messages_and_trips_alerts_when_asked() {
    let Some(w) = World::new(&["sensor-0001", "sensor-0002"]) else {
        return;
    };
    let p = w.path();
    std::fs::copy(example("home-security"), p.join("fleet.yaml")).unwrap();
    std::fs::write(
        p.join("outputs.json"),
        serde_json::json!({ "iot_data_endpoint": { "value": w.endpoint(), "type": "string", "sensitive": false } })
            .to_string(),
    )
    .unwrap();
    let (_observer, rx) = w.client("watcher", &["sensors/#"]);

    // The README's commands, as written (the example is JITP: the simulator would reconnect
    // if the broker dropped the first connection; mosquitto does not).
    let commands = readme_commands();
    assert!(!commands.is_empty());
    let mut stdout = String::new();
    for c in &commands {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        stdout = ok(&fleetform(p, &args));
    }
    assert_eq!(
        stdout,
        format!(
            "simulated 2 devices against {}: 6 messages published, 2 tripping `alarm`\n",
            w.endpoint()
        )
    );
    let got = collect(&rx, 6);
    assert_eq!(got.len(), 6, "{got:?}");
    let mut tripping = 0;
    for (topic, m) in &got {
        let id = m["device_id"].as_str().unwrap();
        assert_eq!(topic, &format!("sensors/{id}/events"), "the spec's topic");
        assert!(["sensor-0001", "sensor-0002"].contains(&id));
        assert!(
            m["seq"].is_u64() && m["event"].is_string() && m["armed"].is_boolean(),
            "{m}"
        );
        if m["event"] == "intrusion" && m["armed"] == true {
            tripping += 1;
            assert_eq!(m["seq"], 2, "--trip-every 3 trips the third message");
        }
    }
    assert_eq!(tripping, 2);
}

#[test]
fn a_certificate_from_another_ca_is_refused_with_a_clear_error() {
    let Some(w) = World::new(&[]) else { return };
    let p = w.path();
    ok(&fleetform(
        p,
        &[
            "certs",
            "init",
            "--out",
            "other-ca",
            "--organization",
            "Mallory",
            "--country",
            "DE",
        ],
    ));
    ok(&fleetform(
        p,
        &[
            "certs", "device", "--ca-dir", "other-ca", "--out", "other", "--id", "intruder",
        ],
    ));
    let endpoint = w.endpoint();
    let out = fleetform(
        p,
        &[
            "simulate",
            &example("greenhouse"),
            "--endpoint",
            &endpoint,
            "--server-ca",
            "broker-ca.pem",
            "--devices",
            "other",
            "--device",
            "intruder",
            "--timeout",
            "5",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{endpoint} rejected the device certificate `other/intruder/chain.pem`"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Mallory Signing CA"),
        "names the issuer: {stderr}"
    );
    assert!(stderr.contains("simulate-client-certificate"), "{stderr}");

    // The kit's own certificate on the same broker works (greenhouse: manual provisioning).
    ok(&fleetform(
        p,
        &["certs", "device", "--out", "devices", "--id", "bed-1"],
    ));
    let stdout = ok(&fleetform(
        p,
        &[
            "simulate",
            &example("greenhouse"),
            "--endpoint",
            &endpoint,
            "--server-ca",
            "broker-ca.pem",
            "--device",
            "bed-1",
        ],
    ));
    assert!(stdout.contains("1 message published"), "{stdout}");

    // A broker the simulator does not trust is named, with the fix.
    let out = fleetform(
        p,
        &[
            "simulate",
            &example("greenhouse"),
            "--endpoint",
            &endpoint,
            "--server-ca",
            "certs/root-ca.pem",
            "--device",
            "bed-1",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the server certificate of {endpoint} is not trusted"
        )),
        "{stderr}"
    );
}

#[test]
fn fleet_provisioning_by_claim_trades_the_claim_for_a_certificate_and_reconnects() {
    let Some(w) = World::new(&["sn-0001"]) else {
        return;
    };
    let p = w.path().to_path_buf();
    ok(&fleetform(
        &p,
        &["certs", "claim", "--name", "factory-1-claim"],
    ));
    let (_watcher, telemetry) = w.client("watcher", &["#"]);
    // The fake AWS: answers CreateKeysAndCertificate with a bundle the kit issued, and
    // RegisterThing by naming the thing after the serial number.
    let (responder, requests) = w.client(
        "fake-aws",
        &[
            "$aws/certificates/create/json",
            "$aws/provisioning-templates/+/provision/json",
        ],
    );
    let bundle = p.join("devices/sn-0001");
    let answered = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while let Ok((topic, body)) = requests.recv_timeout(Duration::from_secs(20)) {
            let reply = if topic == "$aws/certificates/create/json" {
                serde_json::json!({
                    "certificateId": "c0ffee",
                    "certificatePem": std::fs::read_to_string(bundle.join("chain.pem")).unwrap(),
                    "privateKey": std::fs::read_to_string(bundle.join("device.key")).unwrap(),
                    "certificateOwnershipToken": "token-1",
                })
            } else {
                let req: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(req["certificateOwnershipToken"], "token-1");
                serde_json::json!({ "thingName": req["parameters"]["SerialNumber"], "deviceConfiguration": {} })
            };
            seen.push(topic.clone());
            responder
                .publish(
                    format!("{topic}/accepted"),
                    QoS::AtLeastOnce,
                    false,
                    reply.to_string(),
                )
                .unwrap();
            if seen.len() == 2 {
                break;
            }
        }
        seen
    });
    let endpoint = w.endpoint();
    let out = fleetform(
        &p,
        &[
            "simulate",
            &example("minimal"),
            "--endpoint",
            &endpoint,
            "--server-ca",
            "broker-ca.pem",
            "--device",
            "sn-0001",
            "--claim",
            "claims/factory-1-claim",
            "--template",
            "minimal-prod-fleet",
            "--messages",
            "2",
            "--rate",
            "50",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}\n{}", w.broker.log());
    assert_eq!(
        answered.join().unwrap(),
        [
            "$aws/certificates/create/json",
            "$aws/provisioning-templates/minimal-prod-fleet/provision/json"
        ]
    );
    assert!(
        stderr.contains("connected with the claim certificate as `provisioning-sn-0001`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("provisioned as thing `sn-0001` with certificate c0ffee"),
        "{stderr}"
    );
    let got = collect(&telemetry, 2);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(_, m)| m["device_id"] == "sn-0001"));
}

#[test]
fn dps_registration_assigns_a_hub_and_telemetry_goes_to_the_device_to_cloud_topic() {
    let Some(w) = World::new(&["meter-0001"]) else {
        return;
    };
    let p = w.path().to_path_buf();
    let (_watcher, telemetry) = w.client("watcher", &["devices/#"]);
    // The fake DPS: 202 with an operation on register, 200 with the assignment on poll.
    let (responder, requests) = w.client(
        "fake-dps",
        &[
            "$dps/registrations/PUT/iotdps-register/#",
            "$dps/registrations/GET/iotdps-get-operationstatus/#",
        ],
    );
    let answered = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while let Ok((topic, body)) = requests.recv_timeout(Duration::from_secs(20)) {
            let rid = topic
                .split("$rid=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_owned();
            let (status, reply) = if topic.contains("iotdps-register") {
                let req: Value = serde_json::from_slice(&body).unwrap();
                let id = req["registrationId"].as_str().unwrap().to_owned();
                (
                    "202",
                    serde_json::json!({ "operationId": format!("op.{id}"), "status": "assigning" }),
                )
            } else {
                let id = topic.split("operationId=op.").nth(1).unwrap().to_owned();
                (
                    "200",
                    serde_json::json!({
                        "operationId": format!("op.{id}"),
                        "status": "assigned",
                        "registrationState": { "registrationId": id, "assignedHub": "localhost", "deviceId": id, "status": "assigned" },
                    }),
                )
            };
            seen.push(topic.clone());
            responder
                .publish(
                    format!("$dps/registrations/res/{status}/?$rid={rid}&retry-after=1"),
                    QoS::AtLeastOnce,
                    false,
                    reply.to_string(),
                )
                .unwrap();
            if seen.len() == 2 {
                break;
            }
        }
        seen
    });
    std::fs::write(
        p.join("outputs.json"),
        serde_json::json!({
            "dps_global_endpoint": { "value": w.endpoint() },
            "dps_id_scope": { "value": "0ne00TEST01" },
        })
        .to_string(),
    )
    .unwrap();
    let out = fleetform(
        &p,
        &[
            "simulate",
            &example("fleet-analytics-azure"),
            "--outputs",
            "outputs.json",
            "--server-ca",
            "broker-ca.pem",
            "--device",
            "meter-0001",
            "--trip",
            "leak",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        w.broker.log()
    );
    assert_eq!(
        answered.join().unwrap(),
        [
            "$dps/registrations/PUT/iotdps-register/?$rid=1",
            "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=op.meter-0001"
        ]
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["devices"][0]["assigned_hub"], "localhost");
    assert_eq!(report["devices"][0]["tripped"]["leak"], 1);
    let got = collect(&telemetry, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].0,
        "devices/meter-0001/messages/events/$.ct=application%2Fjson&$.ce=utf-8"
    );
    let m = &got[0].1;
    assert!(
        m["flow_lpm"].as_f64().unwrap() > 0.0 && m["valve"] == "closed",
        "trips `leak`: {m}"
    );
}

#[test]
fn messages_are_deterministic_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str| {
        ok(&fleetform(
            dir.path(),
            &[
                "simulate",
                &example("industrial-cranes"),
                "--dry-run",
                "--device",
                "crane-7",
                "--messages",
                "4",
                "--seed",
                seed,
                "--trip",
                "overload",
                "--trip-every",
                "2",
            ],
        ))
    };
    let a = run("42");
    assert_eq!(a, run("42"), "same seed, same bytes");
    assert_ne!(a, run("43"));
    let lines: Vec<Value> = a
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for (i, l) in lines.iter().enumerate() {
        let m = &l["payload"];
        let trips =
            m["load_ratio"].as_f64().unwrap() > 0.95 || m["wind_speed_ms"].as_f64().unwrap() > 20.0;
        assert_eq!(trips, i % 2 == 1, "message {i}: {m}");
        assert_eq!(
            l["topic"],
            "devices/crane-7/messages/events/$.ct=application%2Fjson&$.ce=utf-8"
        );
    }
}

#[test]
fn nothing_listening_and_unknown_alerts_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    kit(p);
    ok(&fleetform(
        p,
        &["certs", "device", "--out", "devices", "--id", "bed-1"],
    ));
    let endpoint = format!("127.0.0.1:{}", free_port());
    let out = fleetform(
        p,
        &[
            "simulate",
            &example("greenhouse"),
            "--endpoint",
            &endpoint,
            "--device",
            "bed-1",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("connection refused by {endpoint}")),
        "{stderr}"
    );

    let out = fleetform(
        p,
        &[
            "simulate",
            &example("home-security"),
            "--dry-run",
            "--device",
            "x",
            "--trip",
            "alrm",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`--trip alrm`: no such alert; the spec's alerts are `alarm`"),
        "{stderr}"
    );

    let out = fleetform(
        p,
        &["simulate", &example("home-security"), "--device", "bed-1"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("iot_data_endpoint"),
        "says which output it reads: {stderr}"
    );
}

/// A TCP relay to the broker that drops its first connection, as AWS IoT does while JITP or
/// JITR registers a new certificate.
fn dropping_relay(broker_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(client) = conn else { return };
            if i == 0 {
                drop(client);
                continue;
            }
            let upstream = std::net::TcpStream::connect(("127.0.0.1", broker_port)).unwrap();
            let (mut a, mut b) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let (mut c, mut d) = (client, upstream);
            std::thread::spawn(move || std::io::copy(&mut a, &mut b));
            std::thread::spawn(move || std::io::copy(&mut d, &mut c));
        }
    });
    port
}

#[test]
fn jitp_reconnects_with_backoff_after_the_first_connection_is_dropped() {
    let Some(w) = World::new(&["sensor-0001"]) else {
        return;
    };
    let p = w.path();
    let (_watcher, rx) = w.client("watcher", &["sensors/#"]);
    let relay = format!("localhost:{}", dropping_relay(w.broker.port));
    let out = fleetform(
        p,
        &[
            "simulate",
            &example("home-security"),
            "--endpoint",
            &relay,
            "--server-ca",
            "broker-ca.pem",
            "--device",
            "sensor-0001",
            "--format",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["devices"][0]["reconnects"], 1, "{report}");
    assert_eq!(report["devices"][0]["published"], 1, "{report}");
    assert_eq!(collect(&rx, 1).len(), 1);
}
