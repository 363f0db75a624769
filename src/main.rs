//! The `seqstake` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    seqstake::cli::run()
}
