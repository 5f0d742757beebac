//! How long a manufacturing batch takes: 10,000 ECDSA P-256 device certificates (fresh key,
//! certificate, chain, PEM), on one core, on all cores, and with the bundles written to disk.
//!
//! Run with `cargo bench --bench certs -- --sample-size 10`. The target is under 10 s per
//! 10,000 devices on one core; key generation and the ECDSA signature dominate the in-memory
//! runs. The written variant measures the file system as much as the kit: set
//! `FLEETFORM_BENCH_DIR` (e.g. to `/dev/shm`) to choose where the bundles go.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use fleetform::certs::{
    CaIssuer, CaProfile, DeviceId, LeafProfile, Subject, WritePlan, generate_ca, issue_device,
    issue_devices, write_plan,
};
use time::OffsetDateTime;

const DEVICES: usize = 10_000;

fn setup() -> (CaIssuer, LeafProfile, Vec<DeviceId>, OffsetDateTime) {
    let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("valid timestamp");
    let mut subject = Subject::new("Bench Root CA");
    subject.organization = Some("Bench".into());
    let (bundle, _) = generate_ca(&CaProfile::new(subject.clone()), now, None).expect("CA");
    let issuer = CaIssuer::from_pem(
        &bundle.signing.cert_pem,
        Path::new("signing-ca.pem"),
        bundle.signing.key_pem.as_str(),
        Path::new("signing-ca.key"),
        None,
        now,
    )
    .expect("issuer");
    let ids = (0..DEVICES)
        .map(|n| DeviceId::parse(&format!("sensor-{n:05}"), "").expect("id"))
        .collect();
    (issuer, LeafProfile::new(subject), ids, now)
}

fn bench(c: &mut Criterion) {
    let (issuer, profile, ids, now) = setup();
    let mut group = c.benchmark_group("certs");
    group.sample_size(10);

    group.bench_function("10k_devices_in_memory_one_core", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for id in &ids {
                let bundle = issue_device(&issuer, id, &profile, now, None).expect("device");
                bytes += bundle.chain_pem.len();
            }
            bytes
        });
    });

    group.bench_function("10k_devices_in_memory_all_cores", |b| {
        b.iter(|| {
            let done = AtomicUsize::new(0);
            let bundles = issue_devices(&issuer, &ids, &profile, now, None, &|| {
                done.fetch_add(1, Ordering::Relaxed);
            })
            .expect("batch");
            assert_eq!(bundles.len(), DEVICES);
            bundles
        });
    });

    group.bench_function("10k_devices_issued_and_written", |b| {
        b.iter_batched(
            || match std::env::var_os("FLEETFORM_BENCH_DIR") {
                Some(base) => tempfile::tempdir_in(base).expect("tempdir"),
                None => tempfile::tempdir().expect("tempdir"),
            },
            |dir| {
                let bundles =
                    issue_devices(&issuer, &ids, &profile, now, None, &|| {}).expect("batch");
                let mut plan = WritePlan::new(dir.path());
                for bundle in &bundles {
                    plan.add_device(dir.path(), bundle);
                }
                let written = write_plan(&plan, false).expect("write");
                assert_eq!(written.len(), DEVICES * 3);
                dir
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
