//! The estimator's neutral input: the fleet and its traffic, as plain numbers.
//!
//! The estimator knows nothing of the spec or of a cloud. [`super::from_model::workload`] fills
//! a [`Workload`] from the validated fleet model (devices and what they send); what each cloud
//! builds for it comes from that cloud's design as a bill ([`super::Meter`]). Every field says
//! its unit; defaults are listed on [`Workload::new`].

use super::Error;

/// A fleet and the cloud architecture it runs on, per month at steady state.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Devices in the fleet.
    pub devices: u64,
    /// Telemetry messages each device sends per day (average).
    pub messages_per_device_per_day: f64,
    /// Metered size of one telemetry message in bytes: payload + topic + MQTT5 or application
    /// properties. The same bytes are the record size on streams and the bytes archived per
    /// message.
    pub message_bytes: u64,
    /// Bytes of `message_bytes` that every message repeats (topic, properties, envelope) rather
    /// than readings. Only the batching advice uses it: k readings batched into one message make
    /// `k × (message_bytes − overhead) + overhead` bytes. Default 0.
    pub message_overhead_bytes: u64,
    /// Hours per day each device stays connected (AWS connectivity is billed per minute).
    /// Default 24.
    pub hours_connected_per_day: f64,
    /// Device shadow (AWS) or reported-property twin (Azure) updates per device per day.
    pub shadow_updates_per_device_per_day: f64,
    /// Size of one shadow update document or twin patch, bytes. On AWS the same bytes meter
    /// the MQTT publish, so include the shadow topic when it could cross a 5 KB boundary.
    pub shadow_document_bytes: u64,
    /// Cloud-to-device messages per device per day (AWS: a back-end publish delivered to the
    /// device; Azure: C2D messages).
    pub c2d_messages_per_device_per_day: f64,
    /// Size of one cloud-to-device message, bytes.
    pub c2d_message_bytes: u64,
    /// Direct method calls (Azure) or MQTT request/response commands (AWS) per device per day.
    pub method_calls_per_device_per_day: f64,
    /// Size of one method request, bytes.
    pub method_request_bytes: u64,
    /// Size of one method response, bytes.
    pub method_response_bytes: u64,
    /// MQTT subscribers each telemetry message is delivered to (AWS messaging bills each
    /// delivery). 0 when only rules consume telemetry. Azure devices cannot subscribe to each
    /// other's telemetry, so Azure ignores it.
    pub subscriber_deliveries_per_message: f64,
    /// Ratio of the peak rate to the average rate, used to size shards and throughput units and
    /// to check hub throttles. 1.0 means traffic is spread evenly. Must be at least 1.
    pub peak_factor: f64,
}

impl Workload {
    /// A fleet of `devices` sending `messages_per_device_per_day` telemetry messages of
    /// `message_bytes`, connected 24 h a day, peak factor 1.0, with no shadows, C2D, methods or
    /// subscribers.
    pub fn new(devices: u64, messages_per_device_per_day: f64, message_bytes: u64) -> Self {
        Self {
            devices,
            messages_per_device_per_day,
            message_bytes,
            message_overhead_bytes: 0,
            hours_connected_per_day: 24.0,
            shadow_updates_per_device_per_day: 0.0,
            shadow_document_bytes: 0,
            c2d_messages_per_device_per_day: 0.0,
            c2d_message_bytes: 0,
            method_calls_per_device_per_day: 0.0,
            method_request_bytes: 0,
            method_response_bytes: 0,
            subscriber_deliveries_per_message: 0.0,
            peak_factor: 1.0,
        }
    }

    /// Whether the cloud talks back to devices: twin or shadow updates, cloud-to-device
    /// messages or direct methods at a rate above zero.
    pub fn talks_back(&self) -> bool {
        self.shadow_updates_per_device_per_day > 0.0
            || self.c2d_messages_per_device_per_day > 0.0
            || self.method_calls_per_device_per_day > 0.0
    }

    /// Checks that every figure is in range.
    pub fn validate(&self) -> Result<(), Error> {
        non_negative(
            "messages_per_device_per_day",
            self.messages_per_device_per_day,
        )?;
        non_negative("hours_connected_per_day", self.hours_connected_per_day)?;
        if self.hours_connected_per_day > 24.0 {
            return Err(invalid(
                "hours_connected_per_day",
                format!("a day has 24 hours, got {}", self.hours_connected_per_day),
            ));
        }
        non_negative(
            "shadow_updates_per_device_per_day",
            self.shadow_updates_per_device_per_day,
        )?;
        non_negative(
            "c2d_messages_per_device_per_day",
            self.c2d_messages_per_device_per_day,
        )?;
        non_negative(
            "method_calls_per_device_per_day",
            self.method_calls_per_device_per_day,
        )?;
        non_negative(
            "subscriber_deliveries_per_message",
            self.subscriber_deliveries_per_message,
        )?;
        if !self.peak_factor.is_finite() || self.peak_factor < 1.0 {
            return Err(invalid(
                "peak_factor",
                format!("must be at least 1.0, got {}", self.peak_factor),
            ));
        }
        if self.message_overhead_bytes > self.message_bytes {
            return Err(invalid(
                "message_overhead_bytes",
                format!(
                    "cannot exceed message_bytes ({} > {})",
                    self.message_overhead_bytes, self.message_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// Functions invoked for a share of telemetry messages (AWS Lambda or Azure Functions).
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionWorkload {
    /// Share of telemetry messages that invoke the functions (0.0 to 1.0), e.g. alert matches.
    pub invocation_fraction: f64,
    /// Functions invoked per matching message.
    pub functions: u32,
    /// Configured memory, MB.
    pub memory_mb: u32,
    /// Average billed duration of one invocation, milliseconds.
    pub avg_duration_ms: f64,
}

impl FunctionWorkload {
    /// Checks the share and the duration; `field` names the workload part in errors.
    pub fn validate(&self, field: &'static str) -> Result<(), Error> {
        if !(0.0..=1.0).contains(&self.invocation_fraction) {
            return Err(invalid(
                field,
                format!(
                    "invocation_fraction is a share between 0 and 1, got {}",
                    self.invocation_fraction
                ),
            ));
        }
        non_negative(field, self.avg_duration_ms)
    }
}

/// How telemetry is grouped into stored objects or blobs.
///
/// For a Firehose delivery stream with buffering hints of `interval_s` seconds and `size` bytes,
/// objects per day are about `max(86,400 / interval_s, bytes_per_day / size)`. Event Hubs Capture
/// writes one blob per partition per capture window (`partitions × 86,400 / window_s`), and an
/// IoT Hub storage route one blob per `batch_frequency_in_seconds` (per partition).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Batching {
    /// This many objects are written per day (e.g. one per Firehose buffer interval).
    ObjectsPerDay(f64),
    /// Objects of about this many bytes each (e.g. a Firehose buffer size).
    ObjectBytes(u64),
    /// One object per telemetry message.
    OnePerMessage,
}

impl Batching {
    /// Checks the batch size; `field` names the workload part in errors.
    pub fn validate(self, field: &'static str) -> Result<(), Error> {
        match self {
            Self::ObjectsPerDay(n) if !n.is_finite() || n <= 0.0 => Err(invalid(
                field,
                format!("objects per day must be above 0, got {n}"),
            )),
            Self::ObjectBytes(0) => Err(invalid(field, "object size must be above 0".to_owned())),
            _ => Ok(()),
        }
    }
}

/// A [`Error::Workload`] for `field`.
pub(crate) fn invalid(field: &'static str, reason: String) -> Error {
    Error::Workload { field, reason }
}

/// Checks that `value` is a finite number of at least 0.
pub(crate) fn non_negative(field: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a finite number of at least 0, got {value}"),
        ))
    }
}
