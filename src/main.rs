//! The `fleetform` binary: a thin shell around [`fleetform::cli`].
fn main() -> std::process::ExitCode {
    fleetform::cli::run()
}
