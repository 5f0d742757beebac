//! Certificates for a whole registry: issued on all cores a chunk at a time and written as they
//! are made, into one folder per device or one tar archive, resumable, with a manifest.
//!
//! A million devices cannot be held in memory and written all or nothing at the end (about
//! 3 KB a bundle, 3 files each). [`run`] issues [`CHUNK`] devices at a time in parallel and
//! writes each chunk before it issues the next, so memory stays at one chunk. Each chunk is
//! written all or nothing (`write::write_plan`); a run that stops leaves every finished chunk
//! in place, and `--resume` continues it: it checks every bundle that exists (a certificate
//! this CA issued for that id, still valid, its key and chain beside it) and only issues the
//! rest. A complete bundle is never issued again (its key may already be on a device); a
//! bundle that exists but does not check out is an error, not silently replaced.
//!
//! The manifest (`manifest.csv`: `id,sha256,serial`) lists every device of the run in registry
//! order, kept or issued. `sha256` is the SHA-256 of the certificate's DER, lowercase hex:
//! AWS IoT's certificate id and Azure's SHA-256 thumbprint. It is written beside the bundles
//! under a temporary name and renamed at the end, so a manifest always describes a whole run.
//!
//! In a tar archive (`--bundle tar`, `devices.tar`, mode 0600, named in the folder's
//! `.gitignore` before it is written), entries are `<id>/device.pem`, `<id>/device.key`,
//! `<id>/chain.pem` in registry order, owner 0, modes 0644/0600, mtime the issue time: the
//! same layout as the folders, in a deterministic order. A resumed archive
//! keeps its longest prefix of whole devices that check out, cuts anything after it (a device
//! cut off mid-write) and continues from there.
//!
//! Long because both bundle layouts (folders and tar) share the parallel, chunked issuing and
//! the resume logic with its checks of what a resumed run may keep.

use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use x509_parser::prelude::FromDer as _;

use super::error::{CertsError, Result};
use super::issue::{CaIssuer, DeviceBundle, issue_device};
use super::key::{Passphrase, PrivateKey};
use super::profile::LeafProfile;
use super::write::{FileKind, WritePlan, WrittenFile, device_files, preflight, write_plan};
use super::{DeviceId, layout};
use crate::safe_fs::{self, Kind, Mode, Root};

/// Devices issued (or checked) and written per step: enough to keep every core busy, small
/// enough that a chunk's bundles take a few MB.
pub const CHUNK: usize = 1024;

/// Most errors listed from one resumed run; the rest are counted.
const MAX_LISTED: usize = 20;

/// Largest bundle file a resume reads (a PEM chain is a few KiB).
const MAX_BUNDLE_FILE: u64 = 64 * 1024;

/// The manifest's file name, in the output folder.
pub const MANIFEST: &str = "manifest.csv";

/// The archive's file name with `--bundle tar`, in the output folder.
pub const ARCHIVE: &str = "devices.tar";

/// Where bundles go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `<out>/<id>/device.pem|device.key|chain.pem`.
    Folders,
    /// One archive, `<out>/devices.tar`, with the same paths inside.
    Tar,
}

/// How [`run`] writes.
#[derive(Debug)]
pub struct Options<'a> {
    /// The output folder.
    pub out: &'a Path,
    /// Folders or one archive.
    pub layout: Layout,
    /// Keep bundles that exist and check out; issue the rest.
    pub resume: bool,
    /// Replace what exists.
    pub force: bool,
    /// Write `<out>/manifest.csv`.
    pub manifest: bool,
    /// Also write this file: the input of AWS IoT's bulk certificate registration task, one
    /// `{"ThingName", "CertificatePem"}` object per device and line (bulk-provisioning.html),
    /// for `scripts/register-devices.sh certificates FILE`.
    pub aws_bulk: Option<&'a Path>,
    /// Encrypts new device keys (and opens existing ones when resuming).
    pub key_passphrase: Option<&'a Passphrase>,
}

/// What one device's certificate is, for the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// SHA-256 of the certificate DER, lowercase hex.
    pub sha256: String,
    /// Serial number, lowercase hex.
    pub serial: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Devices issued now.
    pub issued: usize,
    /// Devices whose existing bundle was checked and kept (`--resume`).
    pub kept: usize,
    /// Of `issued`, devices that had an incomplete bundle (some files missing) replaced.
    pub completed: usize,
    /// Files written, in order (for folders: every bundle file; always the manifest last).
    pub written: Vec<WrittenFile>,
    /// Serial of every device issued now, in order.
    pub serials: Vec<(String, String)>,
}

/// SHA-256 fingerprint and serial of the first certificate in `pem`.
///
/// # Errors
/// When `pem` holds no parsable certificate.
pub fn fingerprint(pem: &str) -> std::result::Result<Fingerprint, String> {
    let der = first_der(pem)?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&der)
        .map_err(|e| format!("the certificate does not parse ({e})"))?;
    Ok(Fingerprint {
        sha256: super::inspect::hex(&Sha256::digest(&der)),
        serial: super::inspect::hex(cert.raw_serial()),
    })
}

fn first_der(pem: &str) -> std::result::Result<Vec<u8>, String> {
    let blocks = pem::parse_many(pem).map_err(|e| format!("it is not valid PEM ({e})"))?;
    blocks
        .into_iter()
        .find(|b| b.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .ok_or_else(|| "it holds no certificate".to_owned())
}

/// Checks that an existing bundle is one `issuer` issued for `id`: the certificate names `id`,
/// carries the CA's signature and is valid at `now`; the chain is that certificate then the
/// CA's; the key (when there is one) is the certificate's. Returns its fingerprint, or why not.
///
/// # Errors
/// A sentence saying what does not check out.
pub fn verify_bundle(
    issuer: &CaIssuer,
    id: &DeviceId,
    cert_pem: &str,
    chain_pem: &str,
    key: Option<(&str, &Path)>,
    key_passphrase: Option<&Passphrase>,
    now: OffsetDateTime,
) -> std::result::Result<Fingerprint, String> {
    let der = first_der(cert_pem)?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&der)
        .map_err(|e| format!("the certificate does not parse ({e})"))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok());
    if cn != Some(id.as_str()) {
        return Err(format!(
            "the certificate is for `{}`, not `{id}`",
            cn.unwrap_or("(no common name)")
        ));
    }
    let ca_der = first_der(issuer.cert_pem())?;
    let (_, ca) = x509_parser::certificate::X509Certificate::from_der(&ca_der)
        .map_err(|e| format!("the CA certificate does not parse ({e})"))?;
    if cert.verify_signature(Some(ca.public_key())).is_err() {
        return Err(format!(
            "the certificate was not issued by the CA `{}`",
            issuer.origin().display()
        ));
    }
    let at = x509_parser::time::ASN1Time::from_timestamp(now.unix_timestamp())
        .map_err(|e| format!("the clock is out of range ({e})"))?;
    if !cert.validity().is_valid_at(at) {
        return Err("the certificate is not valid now (expired or not yet valid)".to_owned());
    }
    if chain_pem != format!("{cert_pem}{}", issuer.cert_pem()) {
        return Err(format!(
            "`{}` is not the certificate followed by the CA's",
            layout::DEVICE_CHAIN
        ));
    }
    if let Some((text, origin)) = key {
        let key = PrivateKey::from_pem(text, origin, key_passphrase)
            .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_owned())?;
        if key.public_key_raw() != cert.public_key().subject_public_key.data.as_ref() {
            return Err("the private key does not belong to the certificate".to_owned());
        }
    }
    Ok(Fingerprint {
        sha256: super::inspect::hex(&Sha256::digest(&der)),
        serial: super::inspect::hex(cert.raw_serial()),
    })
}

/// An existing bundle's texts: certificate, key, chain.
struct Found {
    cert: String,
    key: String,
    chain: String,
}

/// What to do about one device.
enum Step {
    /// Issue it; `true` when an incomplete bundle is replaced.
    Issue(bool),
    /// Check what exists.
    Check(Found),
}

/// What became of one device.
enum Done {
    Issued(Box<DeviceBundle>, Fingerprint, bool),
    /// The fingerprint and the certificate's PEM.
    Kept(Fingerprint, String),
    Bad(String),
}

/// Issues bundles for `ids` (see the module docs). `progress` is called with the number of
/// devices finished (issued or checked) after each chunk.
///
/// # Errors
/// Invalid inputs, bundles that exist (without `resume`/`force`) or do not check out
/// (`resume`), and write failures; a failure after some chunks were written says how many and
/// that `--resume` continues.
pub fn run(
    issuer: &CaIssuer,
    ids: &[DeviceId],
    profile: &LeafProfile,
    now: OffsetDateTime,
    opts: &Options<'_>,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Report> {
    profile.validate()?;
    issuer.leaf_window(profile.validity_days, now)?;
    let replace = opts.force || opts.resume;
    let manifest_path = opts.out.join(MANIFEST);
    let mut targets: Vec<(PathBuf, FileKind)> = match opts.layout {
        Layout::Folders => ids
            .iter()
            .flat_map(|id| device_files(opts.out, id))
            .collect(),
        Layout::Tar => vec![(opts.out.join(ARCHIVE), FileKind::PrivateKey)],
    };
    if opts.manifest {
        targets.push((manifest_path.clone(), FileKind::Certificate));
    }
    preflight(opts.out, &targets, replace)?;
    drop(targets);

    // Every file goes through a handle on the output folder that never follows a link; the
    // folder holds keys, so it is created 0700 (as `write_plan` would).
    let root = || -> Result<Root> {
        Root::create(opts.out, Mode::Secret)
            .map(|(root, _)| root)
            .map_err(|e| fs_error(opts.out, e))
    };
    let mut report = Report::default();
    let mut manifest = if opts.manifest {
        Some(Manifest::create(
            root()?,
            opts.out,
            MANIFEST,
            b"id,sha256,serial\n",
        )?)
    } else {
        None
    };
    let mut aws_bulk = match opts.aws_bulk {
        Some(path) => {
            let (dir, name) = match (path.parent(), path.file_name()) {
                (Some(d), Some(n)) if !d.as_os_str().is_empty() => (d, n),
                (_, Some(n)) => (Path::new("."), n),
                _ => return Err(fs_error(path, safe_fs::Error::NotAFile(path.to_owned()))),
            };
            let (root, _) = Root::create(dir, Mode::Public).map_err(|e| fs_error(dir, e))?;
            Some(Manifest::create(root, dir, &name.to_string_lossy(), b"")?)
        }
        None => None,
    };
    let existing_root = if opts.resume && opts.layout == Layout::Folders {
        Some(root()?)
    } else {
        None
    };
    // The archive holds every key: the folder's `.gitignore` names it before it exists (the
    // `*.key` rule that covers the folder layout does not match it).
    if opts.layout == Layout::Tar
        && let Some(ignore) = super::write::ignore_in(opts.out, ARCHIVE)?
    {
        report.written.push(ignore);
    }
    let mut tar = match opts.layout {
        Layout::Folders => None,
        Layout::Tar => Some(TarOut::open(
            &root()?,
            ids,
            opts,
            issuer,
            now,
            &mut report,
            manifest.as_mut(),
            aws_bulk.as_mut(),
        )?),
    };
    let start = report.kept;
    progress(start);
    for (n, chunk) in ids[start..].chunks(CHUNK).enumerate() {
        let steps: Vec<Step> = match opts.layout {
            Layout::Folders if opts.resume => chunk
                .iter()
                .map(|id| existing(existing_root.as_ref(), opts.out, id))
                .collect::<Result<_>>()?,
            _ => chunk.iter().map(|_| Step::Issue(false)).collect(),
        };
        let done = par_map(chunk, steps, |id, step| match step {
            Step::Issue(incomplete) => {
                match issue_device(issuer, id, profile, now, opts.key_passphrase) {
                    Ok(b) => match fingerprint(&b.cert_pem) {
                        Ok(fp) => Ok(Done::Issued(Box::new(b), fp, incomplete)),
                        Err(e) => Err(CertsError::internal("reading a certificate just issued", e)),
                    },
                    Err(e) => Err(e),
                }
            }
            Step::Check(found) => {
                let key_path = opts.out.join(id.as_str()).join(layout::DEVICE_KEY);
                Ok(
                    match verify_bundle(
                        issuer,
                        id,
                        &found.cert,
                        &found.chain,
                        Some((&found.key, &key_path)),
                        opts.key_passphrase,
                        now,
                    ) {
                        Ok(fp) => Done::Kept(fp, found.cert),
                        Err(why) => {
                            Done::Bad(format!("`{}`: {why}", opts.out.join(id.as_str()).display()))
                        }
                    },
                )
            }
        })
        .into_iter()
        .collect::<Result<Vec<Done>>>()?;
        let bad: Vec<&str> = done
            .iter()
            .filter_map(|d| match d {
                Done::Bad(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        if !bad.is_empty() {
            return Err(unusable(&bad, opts.out));
        }
        let written_before = report.issued + report.kept;
        let result = if let Some(t) = &mut tar {
            t.append(&done)
        } else {
            let mut plan = WritePlan::new(opts.out);
            for d in &done {
                if let Done::Issued(b, _, _) = d {
                    plan.add_device(opts.out, b);
                }
            }
            write_plan(&plan, replace).map(|w| report.written.extend(w))
        };
        if let Err(e) = result {
            return Err(interrupted(e, written_before, n));
        }
        for (id, d) in chunk.iter().zip(done) {
            let (fp, cert) = match d {
                Done::Issued(b, fp, incomplete) => {
                    report.issued += 1;
                    report.completed += usize::from(incomplete);
                    report.serials.push((b.id.to_string(), fp.serial.clone()));
                    (fp, b.cert_pem)
                }
                Done::Kept(fp, cert) => {
                    report.kept += 1;
                    (fp, cert)
                }
                Done::Bad(_) => unreachable!("refused above"),
            };
            if let Some(m) = manifest.as_mut() {
                m.row(id.as_str(), &fp)?;
            }
            if let Some(b) = aws_bulk.as_mut() {
                b.certificate(id.as_str(), &cert)?;
            }
        }
        progress(report.issued + report.kept);
    }
    if let Some(t) = tar {
        report.written.push(t.finish()?);
    }
    if let Some(m) = manifest {
        report.written.push(m.finish(&manifest_path, replace)?);
    }
    if let (Some(b), Some(to)) = (aws_bulk, opts.aws_bulk) {
        report.written.push(b.finish(to, replace)?);
    }
    Ok(report)
}

/// What exists of `id`'s bundle in folder layout (`root`: the output folder, if it exists).
fn existing(root: Option<&Root>, out: &Path, id: &DeviceId) -> Result<Step> {
    let files = device_files(out, id);
    let mut texts = Vec::with_capacity(3);
    for (path, _) in &files {
        let read = match (root, path.strip_prefix(out)) {
            (Some(root), Ok(rel)) => root.read(rel, MAX_BUNDLE_FILE),
            _ => Ok(None),
        };
        match read {
            Ok(Some(bytes)) => texts.push(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Ok(None) => texts.push(None),
            Err(e) => {
                return Err(CertsError::OutputPath {
                    path: path.clone(),
                    reason: e.to_string().lines().next().unwrap_or_default().to_owned(),
                    hint: "move it away, or run without --resume and with --force to issue the device again".to_owned(),
                });
            }
        }
    }
    Ok(
        match (
            texts.pop().flatten(),
            texts.pop().flatten(),
            texts.pop().flatten(),
        ) {
            (Some(chain), Some(key), Some(cert)) => Step::Check(Found { cert, key, chain }),
            (None, None, None) => Step::Issue(false),
            _ => Step::Issue(true),
        },
    )
}

fn unusable(bad: &[&str], out: &Path) -> CertsError {
    let mut reason = String::new();
    for b in bad.iter().take(MAX_LISTED) {
        let _ = write!(reason, "\n  {b}");
    }
    if bad.len() > MAX_LISTED {
        let _ = write!(reason, "\n  and {} more", bad.len() - MAX_LISTED);
    }
    CertsError::OutputPath {
        path: out.to_owned(),
        reason: format!("{} existing bundle(s) do not check out, so they cannot be kept:{reason}", bad.len()),
        hint: "a kept bundle must come from this CA (--ca-dir/--ca) for its id, with its key and chain; move the listed bundles away to issue them again, or pass --force instead of --resume to issue every device again".to_owned(),
    }
}

fn interrupted(e: CertsError, done: usize, chunk: usize) -> CertsError {
    if done == 0 && chunk == 0 {
        return e;
    }
    match e {
        CertsError::Write { path, io, cleanup } => CertsError::Write {
            path,
            io,
            cleanup: format!(
                "{cleanup}; the {done} devices before this step are complete and kept: add --resume to continue without issuing them again"
            ),
        },
        other => other,
    }
}

/// Maps `f` over `items` (with their `steps`) on all cores, keeping the order.
fn par_map<T: Sync, S: Send, R: Send>(
    items: &[T],
    steps: Vec<S>,
    f: impl Fn(&T, S) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.len().max(1));
    let per = items.len().div_ceil(threads).max(1);
    let mut steps = steps.into_iter();
    let parts: Vec<(&[T], Vec<S>)> = items
        .chunks(per)
        .map(|part| (part, steps.by_ref().take(part.len()).collect()))
        .collect();
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|(part, steps)| {
                scope.spawn(move || {
                    part.iter()
                        .zip(steps)
                        .map(|(t, s)| f(t, s))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// `manifest.csv` (or the AWS bulk certificate input), written under a temporary name and
/// renamed into place at the end; the temporary file is removed again if the run fails.
struct Manifest {
    root: Root,
    /// The file's name in `root`.
    name: String,
    /// The temporary name, in the same folder.
    rel: PathBuf,
    /// The same, for messages.
    shown: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl Manifest {
    fn create(root: Root, out: &Path, name: &str, header: &[u8]) -> Result<Self> {
        let rel = PathBuf::from(format!(".{name}.partial"));
        let shown = out.join(&rel);
        // A leftover of an interrupted run is ours to replace; anything else in its place
        // (a link, a folder) is refused by the exclusive create.
        if root.kind(&rel).map_err(|e| fs_error(&shown, e))? == Some(Kind::File) {
            root.remove_file(&rel).map_err(|e| fs_error(&shown, e))?;
        }
        let file = root
            .create_new(&rel, Mode::Public)
            .map_err(|e| fs_error(&shown, e))?;
        let mut m = Self {
            root,
            name: name.to_owned(),
            rel,
            shown,
            file: Some(std::io::BufWriter::new(file)),
        };
        m.write(header)?;
        Ok(m)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes).map_err(|e| write_error(&self.shown, e)),
            None => Ok(()),
        }
    }

    fn row(&mut self, id: &str, fp: &Fingerprint) -> Result<()> {
        // Ids are validated (letters, digits, `._:-`), so no field needs quoting.
        self.write(format!("{id},{},{}\n", fp.sha256, fp.serial).as_bytes())
    }

    /// One line of the AWS bulk certificate input.
    fn certificate(&mut self, id: &str, cert_pem: &str) -> Result<()> {
        let mut line = Vec::with_capacity(cert_pem.len() + 64);
        line.push(b'{');
        crate::emit::jsonl::push_key(&mut line, "ThingName");
        crate::emit::jsonl::push_str(&mut line, id);
        line.push(b',');
        crate::emit::jsonl::push_key(&mut line, "CertificatePem");
        crate::emit::jsonl::push_str(&mut line, cert_pem);
        line.extend_from_slice(b"}\n");
        self.write(&line)
    }

    fn finish(mut self, to: &Path, replace: bool) -> Result<WrittenFile> {
        let shown = self.shown.clone();
        let Some(file) = self.file.take() else {
            return Err(CertsError::internal(
                "writing the manifest",
                "finished twice",
            ));
        };
        let outcome = (|| {
            let file = file
                .into_inner()
                .map_err(|e| write_error(&shown, e.into_error()))?;
            file.sync_all().map_err(|e| write_error(&shown, e))?;
            let replaced = match self.root.kind(&self.name).map_err(|e| fs_error(to, e))? {
                None => false,
                Some(Kind::File) => true,
                Some(_) => return Err(fs_error(to, safe_fs::Error::NotAFile(to.to_owned()))),
            };
            if replaced && !replace {
                return Err(CertsError::AlreadyExists {
                    first: to.to_owned(),
                    more: String::new(),
                });
            }
            self.root
                .rename(&self.rel, &self.name)
                .map_err(|e| fs_error(to, e))?;
            Ok(replaced)
        })();
        match outcome {
            Ok(replaced) => Ok(WrittenFile {
                path: to.to_owned(),
                kind: FileKind::Certificate,
                owner: None,
                replaced,
            }),
            Err(e) => {
                let _ = self.root.remove_file(&self.rel);
                Err(e)
            }
        }
    }
}

impl Drop for Manifest {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = self.root.remove_file(&self.rel);
        }
    }
}

/// `devices.tar`, opened for a new run or continued after its verified prefix.
struct TarOut {
    path: PathBuf,
    builder: tar::Builder<std::io::BufWriter<std::fs::File>>,
    mtime: u64,
    replaced: bool,
}

impl TarOut {
    /// Opens the archive in `root`. Resuming, checks the devices it holds (which must be the
    /// first ones of `ids`, in order), records them in `report` and `manifest`, and cuts the
    /// rest.
    #[allow(clippy::too_many_arguments)]
    fn open(
        root: &Root,
        ids: &[DeviceId],
        opts: &Options<'_>,
        issuer: &CaIssuer,
        now: OffsetDateTime,
        report: &mut Report,
        mut manifest: Option<&mut Manifest>,
        mut aws_bulk: Option<&mut Manifest>,
    ) -> Result<Self> {
        let path = opts.out.join(ARCHIVE);
        let exists = match root.kind(ARCHIVE).map_err(|e| fs_error(&path, e))? {
            None => false,
            Some(Kind::File) => true,
            Some(Kind::Link) => return Err(fs_error(&path, safe_fs::Error::Link(path.clone()))),
            Some(_) => return Err(fs_error(&path, safe_fs::Error::NotAFile(path.clone()))),
        };
        let mtime = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        if !(exists && opts.resume) {
            if exists {
                root.remove_file(ARCHIVE).map_err(|e| fs_error(&path, e))?;
            }
            let file = root
                .create_new(ARCHIVE, Mode::Secret)
                .map_err(|e| fs_error(&path, e))?;
            return Ok(Self {
                path,
                builder: tar::Builder::new(std::io::BufWriter::new(file)),
                mtime,
                replaced: exists,
            });
        }
        let Some(mut file) = root.open_rw(ARCHIVE).map_err(|e| fs_error(&path, e))? else {
            return Err(fs_error(
                &path,
                safe_fs::Error::Io {
                    path: path.clone(),
                    source: std::io::ErrorKind::NotFound.into(),
                },
            ));
        };
        let keep = verified_prefix(&file, &path, ids, opts, issuer, now, &mut |id, fp, cert| {
            if let Some(m) = manifest.as_deref_mut() {
                m.row(id.as_str(), fp)?;
            }
            if let Some(b) = aws_bulk.as_deref_mut() {
                b.certificate(id.as_str(), cert)?;
            }
            Ok(())
        })?;
        report.kept = keep.kept;
        file.set_len(keep.end).map_err(|e| write_error(&path, e))?;
        file.seek(std::io::SeekFrom::Start(keep.end))
            .map_err(|e| write_error(&path, e))?;
        Ok(Self {
            path,
            builder: tar::Builder::new(std::io::BufWriter::new(file)),
            mtime,
            replaced: true,
        })
    }

    fn append(&mut self, done: &[Done]) -> Result<()> {
        for d in done {
            let Done::Issued(b, _, _) = d else { continue };
            let Some(key) = &b.key_pem else { continue };
            let dir = b.id.as_str();
            for (name, mode, bytes) in [
                (layout::DEVICE_CERT, 0o644, b.cert_pem.as_bytes()),
                (layout::DEVICE_KEY, 0o600, key.as_str().as_bytes()),
                (layout::DEVICE_CHAIN, 0o644, b.chain_pem.as_bytes()),
            ] {
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(mode);
                header.set_uid(0);
                header.set_gid(0);
                header.set_mtime(self.mtime);
                header.set_entry_type(tar::EntryType::Regular);
                self.builder
                    .append_data(&mut header, format!("{dir}/{name}"), bytes)
                    .map_err(|e| write_error(&self.path, e))?;
            }
        }
        self.builder
            .get_mut()
            .flush()
            .map_err(|e| write_error(&self.path, e))
    }

    fn finish(self) -> Result<WrittenFile> {
        let path = self.path;
        let file = self
            .builder
            .into_inner()
            .map_err(|e| write_error(&path, e))?;
        let file = file
            .into_inner()
            .map_err(|e| write_error(&path, e.into_error()))?;
        file.sync_all().map_err(|e| write_error(&path, e))?;
        Ok(WrittenFile {
            path,
            kind: FileKind::PrivateKey,
            owner: None,
            replaced: self.replaced,
        })
    }
}

struct Prefix {
    /// Whole devices kept, from the first of the registry on.
    kept: usize,
    end: u64,
}

/// Verifies `batch` (registry index, texts) on all cores; the fingerprints in order, or the
/// error listing every bundle that does not check out.
fn verify_batch(
    batch: &[(usize, Found)],
    path: &Path,
    ids: &[DeviceId],
    opts: &Options<'_>,
    issuer: &CaIssuer,
    now: OffsetDateTime,
) -> Result<Vec<Fingerprint>> {
    let results = par_map(batch, vec![(); batch.len()], |(i, found), ()| {
        let id = &ids[*i];
        let origin = PathBuf::from(format!("{}:{id}/{}", path.display(), layout::DEVICE_KEY));
        verify_bundle(
            issuer,
            id,
            &found.cert,
            &found.chain,
            Some((&found.key, &origin)),
            opts.key_passphrase,
            now,
        )
        .map_err(|why| format!("`{id}` in `{}`: {why}", path.display()))
    });
    let mut fingerprints = Vec::with_capacity(results.len());
    let mut bad = Vec::new();
    for r in results {
        match r {
            Ok(fp) => fingerprints.push(fp),
            Err(e) => bad.push(e),
        }
    }
    if !bad.is_empty() {
        let refs: Vec<&str> = bad.iter().map(String::as_str).collect();
        return Err(unusable(&refs, opts.out));
    }
    Ok(fingerprints)
}

/// The whole devices at the start of an existing archive that check out, and where they end.
/// Read and verified [`CHUNK`] devices at a time (an archive of a million devices is GBs), each
/// kept device handed to `kept` in order.
fn verified_prefix(
    file: &std::fs::File,
    path: &Path,
    ids: &[DeviceId],
    opts: &Options<'_>,
    issuer: &CaIssuer,
    now: OffsetDateTime,
    kept: &mut dyn FnMut(&DeviceId, &Fingerprint, &str) -> Result<()>,
) -> Result<Prefix> {
    let names = [
        layout::DEVICE_CERT,
        layout::DEVICE_KEY,
        layout::DEVICE_CHAIN,
    ];
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let mismatch = |n: usize, found: &str| {
        CertsError::OutputPath {
        path: path.to_owned(),
        reason: format!("entry {} is `{found}`, but the registry's order expects `{}`", n + 1, expected_name(ids, n, &names)),
        hint: "resume with the registry the archive was started with, or pass --force instead of --resume to start a new archive".to_owned(),
    }
    };
    let mut prefix = Prefix { kept: 0, end: 0 };
    let mut batch: Vec<(usize, Found)> = Vec::with_capacity(CHUNK);
    let mut batch_end = 0;
    let mut flush = |batch: &mut Vec<(usize, Found)>, end: u64, prefix: &mut Prefix| {
        for ((i, found), fp) in batch
            .iter()
            .zip(verify_batch(batch, path, ids, opts, issuer, now)?)
        {
            kept(&ids[*i], &fp, &found.cert)?;
        }
        prefix.kept += batch.len();
        prefix.end = end;
        batch.clear();
        Ok::<(), CertsError>(())
    };
    let mut texts: Vec<String> = Vec::with_capacity(3);
    let mut n = 0usize;
    if let Ok(entries) = archive.entries() {
        for entry in entries {
            // A damaged or cut-off entry ends what can be kept.
            let Ok(mut entry) = entry else { break };
            let Ok(name) = entry.path().map(|p| p.to_string_lossy().into_owned()) else {
                break;
            };
            if n / 3 >= ids.len() || name != expected_name(ids, n, &names) {
                return Err(mismatch(n, &name));
            }
            if entry.size() > MAX_BUNDLE_FILE {
                return Err(mismatch(n, &name));
            }
            // A cut-off entry reads short rather than failing: only whole entries count.
            let mut text = String::new();
            if entry.read_to_string(&mut text).is_err() || text.len() as u64 != entry.size() {
                break;
            }
            texts.push(text);
            if texts.len() == 3 {
                let chain = texts.pop().unwrap_or_default();
                let key = texts.pop().unwrap_or_default();
                let cert = texts.pop().unwrap_or_default();
                batch.push((n / 3, Found { cert, key, chain }));
                batch_end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
                if batch.len() == CHUNK {
                    flush(&mut batch, batch_end, &mut prefix)?;
                }
            }
            n += 1;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch, batch_end, &mut prefix)?;
    }
    Ok(prefix)
}

fn expected_name(ids: &[DeviceId], n: usize, names: &[&str; 3]) -> String {
    ids.get(n / 3).map_or_else(
        || "(end of the registry)".to_owned(),
        |id| format!("{id}/{}", names[n % 3]),
    )
}

fn write_error(path: &Path, io: std::io::Error) -> CertsError {
    CertsError::Write {
        path: path.to_owned(),
        io,
        cleanup: "fix the cause (disk full? permissions?) and run the command again with --resume"
            .to_owned(),
    }
}

/// A refused or failed access to `path` under the output folder.
fn fs_error(path: &Path, e: safe_fs::Error) -> CertsError {
    match e {
        safe_fs::Error::Io { source, .. } => write_error(path, source),
        other => CertsError::OutputPath {
            path: path.to_owned(),
            reason: other.to_string().lines().next().unwrap_or_default().to_owned(),
            hint: "replace the link or the special file with a real folder or file, or choose another output directory".to_owned(),
        },
    }
}
