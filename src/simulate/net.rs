//! The simulator's only network I/O: MQTT 3.1.1 over TLS with client certificates.
//!
//! rumqttc drives the protocol and rustls (with the `ring` provider the certificate kit
//! already builds on) the TLS; this module wires a [`Plan`] into connections, runs each
//! device as a task on one thread (devices mostly wait), and turns every failure into a
//! [`Failure`] that says which endpoint, which certificate and which CA were involved, for
//! the CLI to render through `diagnostics` (TLS setup and error wording live in `tls`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS,
    SubscribeReasonCode, TlsConfiguration, Transport,
};

use super::payload::{SplitMix64, device_seed};
use super::tls::{classify, tls_config};
use super::{Endpoint, Flow, Identity, Plan, backoff};

/// What happened to one device.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DeviceReport {
    pub id: String,
    /// Thing name (AWS fleet provisioning) or device id (DPS) the cloud assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_id: Option<String>,
    /// The hub DPS assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_hub: Option<String>,
    pub topic: String,
    pub published: u64,
    /// Messages that trip each alert.
    pub tripped: std::collections::BTreeMap<String, u64>,
    /// Connections dropped and retried (JITP/JITR).
    pub reconnects: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// Why a device stopped: a diagnostic code, what happened, what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    pub hints: Vec<String>,
    /// Worth another attempt while JITP/JITR registers the certificate.
    #[serde(skip)]
    pub retry: bool,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hints: Vec::new(),
            retry: false,
        }
    }
    #[must_use]
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hints.push(h.into());
        self
    }
}

/// Progress lines, one per step a person would want to see.
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// Runs every device of the plan to completion; reports in plan order.
pub fn run(plan: Plan, log: &Log) -> Vec<DeviceReport> {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let f = Failure::new("simulate-runtime", format!("cannot start the runtime: {e}"));
            return plan
                .devices
                .iter()
                .map(|d| DeviceReport {
                    id: d.id.clone(),
                    failure: Some(f.clone()),
                    ..DeviceReport::default()
                })
                .collect();
        }
    };
    let plan = Arc::new(plan);
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..plan.devices.len() {
            let (plan, log) = (plan.clone(), log.clone());
            tasks.spawn(async move { (i, device(&plan, i, &log).await) });
        }
        let mut out: Vec<Option<DeviceReport>> = vec![None; plan.devices.len()];
        while let Some(done) = tasks.join_next().await {
            if let Ok((i, r)) = done {
                out[i] = Some(r);
            }
        }
        out.into_iter()
            .zip(&plan.devices)
            .map(|(r, d)| {
                r.unwrap_or_else(|| DeviceReport {
                    id: d.id.clone(),
                    failure: Some(Failure::new("simulate-bug", "the device task panicked")),
                    ..DeviceReport::default()
                })
            })
            .collect()
    })
}

async fn device(plan: &Plan, i: usize, log: &Log) -> DeviceReport {
    let d = &plan.devices[i];
    let mut report = DeviceReport {
        id: d.id.clone(),
        topic: d.topic.clone(),
        ..DeviceReport::default()
    };
    if let Err(f) = session(plan, i, log, &mut report).await {
        log(format!("{}: {}", d.id, f.message));
        report.failure = Some(f);
    }
    report
}

async fn session(
    plan: &Plan,
    i: usize,
    log: &Log,
    report: &mut DeviceReport,
) -> Result<(), Failure> {
    let d = &plan.devices[i];
    let timeout = plan.run.timeout;
    // Reconnect jitter has its own stream, so retries never change message content.
    let mut jitter = SplitMix64::new(device_seed(plan.run.seed ^ 0x6A69_7474_6572, &d.id));
    let side = plan.side();
    let mut conn = match &plan.flow {
        Flow::Direct => {
            let identity = d.identity.as_ref().expect("planned with an identity");
            let user = side.username(&plan.endpoint.host, &d.id);
            Conn::open(plan, &d.id, user, identity, &plan.endpoint, timeout).await?
        }
        Flow::JustInTime => {
            let identity = d.identity.as_ref().expect("planned with an identity");
            let user = side.username(&plan.endpoint.host, &d.id);
            let mut attempt = 0;
            loop {
                match Conn::open(plan, &d.id, user.clone(), identity, &plan.endpoint, timeout).await
                {
                    Ok(c) => break c,
                    Err(f) if f.retry && attempt < 5 => {
                        let wait = backoff(attempt, jitter.unit());
                        log(format!(
                            "{}: connection dropped ({}); {} registers a new certificate on its first connection, reconnecting in {:.1}s",
                            d.id,
                            f.message,
                            plan.cloud.title(),
                            wait.as_secs_f64()
                        ));
                        report.reconnects += 1;
                        attempt += 1;
                        tokio::time::sleep(wait).await;
                    }
                    Err(f) => return Err(f),
                }
            }
        }
        Flow::Register(registration) => {
            let registered = registration.register(plan, d, log).await?;
            report.assigned_id = Some(registered.id.clone());
            report.assigned_hub.clone_from(&registered.hub);
            if let Some(topic) = registered.topic {
                report.topic = topic;
            }
            let endpoint = registered.hub.map_or_else(
                || plan.endpoint.clone(),
                |host| Endpoint {
                    host,
                    port: plan.endpoint.port,
                },
            );
            let identity = match &registered.identity {
                Some(issued) => issued,
                None => d.identity.as_ref().expect("planned with an identity"),
            };
            let user = side.username(&endpoint.host, &registered.id);
            Conn::open(plan, &registered.id, user, identity, &endpoint, timeout).await?
        }
    };
    log(format!(
        "{}: connected to {} with mutual TLS",
        d.id, conn.endpoint
    ));
    let sender = report.assigned_id.clone().unwrap_or_else(|| d.id.clone());
    let mut rng = SplitMix64::new(device_seed(plan.run.seed, &d.id));
    let start = Instant::now();
    let mut seq = 0u64;
    loop {
        if plan.run.messages.is_some_and(|n| seq >= n)
            || plan.run.duration.is_some_and(|t| start.elapsed() >= t)
        {
            break;
        }
        if seq > 0 {
            tokio::time::sleep(plan.run.interval).await;
        }
        let message = plan
            .shape
            .message(&mut rng, &sender, seq, plan.run.trips_at(seq))
            .map_err(|e| Failure::new("simulate-message", e.to_string()))?;
        conn.publish(&report.topic, message.to_string().into_bytes())
            .await?;
        for alert in plan.shape.trips(&message) {
            *report.tripped.entry(alert.to_owned()).or_default() += 1;
        }
        seq += 1;
        report.published = seq;
    }
    log(format!(
        "{}: published {} message{} to {}",
        d.id,
        seq,
        if seq == 1 { "" } else { "s" },
        report.topic
    ));
    conn.close().await;
    Ok(())
}

/// One MQTT connection, for the engine and for the clouds' first-connection exchanges.
pub struct Conn {
    client: AsyncClient,
    events: EventLoop,
    endpoint: String,
    timeout: Duration,
    identity: Identity,
}

impl Conn {
    /// Connects as `client_id` (with `username` when the cloud asks for one) to `endpoint`,
    /// presenting `identity` with the plan's TLS settings, and waits for the CONNACK.
    pub async fn open(
        plan: &Plan,
        client_id: &str,
        username: Option<String>,
        identity: &Identity,
        endpoint: &Endpoint,
        timeout: Duration,
    ) -> Result<Self, Failure> {
        let tls = tls_config(plan, identity)?;
        let mut o = MqttOptions::new(client_id, &endpoint.host, endpoint.port);
        o.set_keep_alive(Duration::from_secs(30))
            .set_clean_session(true)
            .set_max_packet_size(256 * 1024, 256 * 1024)
            .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(tls)));
        if let Some(user) = username {
            o.set_credentials(user, "");
        }
        let (client, mut events) = AsyncClient::new(o, 16);
        events
            .network_options
            .set_connection_timeout(timeout.as_secs().max(1));
        let mut c = Self {
            client,
            events,
            endpoint: endpoint.to_string(),
            timeout,
            identity: identity.clone(),
        };
        c.until(|e| match e {
            Event::Incoming(Packet::ConnAck(a)) if a.code == ConnectReturnCode::Success => Some(()),
            _ => None,
        })
        .await?;
        Ok(c)
    }

    /// Subscribes to `filter` and waits for the broker to grant it.
    pub async fn subscribe(&mut self, filter: &str) -> Result<(), Failure> {
        self.client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .map_err(|e| Failure::new("simulate-bug", e.to_string()))?;
        let ok = self
            .until(|e| match e {
                Event::Incoming(Packet::SubAck(s)) => {
                    Some(!s.return_codes.contains(&SubscribeReasonCode::Failure))
                }
                _ => None,
            })
            .await?;
        if ok {
            Ok(())
        } else {
            Err(Failure::new(
                "simulate-denied",
                format!("{} refused the subscription to `{filter}`", self.endpoint),
            )
            .hint("the device's policy must allow iot:Subscribe on this topic filter"))
        }
    }

    /// Publishes `payload` to `topic` (QoS 1) and waits for the acknowledgement.
    pub async fn publish(&mut self, topic: &str, payload: Vec<u8>) -> Result<(), Failure> {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|e| Failure::new("simulate-bug", e.to_string()))?;
        self.until(|e| matches!(e, Event::Incoming(Packet::PubAck(_))).then_some(()))
            .await
            .map_err(|f| {
                f.hint(format!(
                    "AWS IoT closes the connection when the policy denies iot:Publish on `{topic}`"
                ))
            })
    }

    /// The next message on one of `topics`.
    pub async fn reply(&mut self, topics: &[String]) -> Result<(String, Vec<u8>), Failure> {
        self.reply_where(|t| topics.iter().any(|x| x == t)).await
    }

    /// The next message on a topic `want` accepts.
    pub async fn reply_where(
        &mut self,
        want: impl Fn(&str) -> bool,
    ) -> Result<(String, Vec<u8>), Failure> {
        self.until(|e| match e {
            Event::Incoming(Packet::Publish(p)) if want(&p.topic) => {
                Some((p.topic.clone(), p.payload.to_vec()))
            }
            _ => None,
        })
        .await
    }

    /// Polls the connection until `f` picks an event, an error, or the timeout.
    async fn until<T>(&mut self, mut f: impl FnMut(&Event) -> Option<T>) -> Result<T, Failure> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.events.poll()).await {
                Ok(Ok(event)) => {
                    if let Some(t) = f(&event) {
                        return Ok(t);
                    }
                }
                Ok(Err(e)) => return Err(classify(&e, &self.endpoint, &self.identity)),
                Err(_) => {
                    return Err(Failure::new(
                        "simulate-timeout",
                        format!(
                            "no answer from {} within {}s",
                            self.endpoint,
                            self.timeout.as_secs()
                        ),
                    )
                    .hint("raise `--timeout`, or check that the endpoint is an MQTT broker"));
                }
            }
        }
    }

    /// Disconnects cleanly.
    pub async fn close(mut self) {
        if self.client.disconnect().await.is_ok() {
            let _ = self
                .until(|e| matches!(e, Event::Outgoing(Outgoing::Disconnect)).then_some(()))
                .await;
        }
    }
}
