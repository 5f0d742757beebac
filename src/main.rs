//! The `fleetform` binary: a thin shell around the library's CLI.
fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
