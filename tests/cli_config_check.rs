//! `seqstake config check` as an operator runs it: exit code 0 and a summary for a valid file,
//! exit code 1 and every broken rule, named by field, for an invalid one.

use std::process::Command;

fn check(path: &std::path::Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_seqstake"))
        .args(["config", "check"])
        .arg(path)
        .output()
        .expect("run seqstake");
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

fn repo_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn shipped_configs_pass() {
    for name in ["config/devnet.toml", "config/example.toml"] {
        let (code, stdout, stderr) = check(&repo_file(name));
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout.contains(": valid"), "{stdout}");
    }
}

#[test]
fn broken_config_fails_naming_each_field() {
    let devnet = std::fs::read_to_string(repo_file("config/devnet.toml")).expect("read devnet");
    let broken = devnet
        .replace("fee_bps = 1000 ", "fee_bps = 12000 ")
        .replace("quorum = 2", "quorum = 1")
        .replace("veto_window_epochs = 2", "veto_window_epochs = 6");
    let dir = std::env::temp_dir().join(format!("seqstake-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("broken.toml");
    std::fs::write(&path, broken).expect("write");

    let (code, stdout, stderr) = check(&path);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.trim_start().starts_with("error:")).collect();
    assert_eq!(errors.len(), 3, "{stderr}");
    assert!(errors[0].contains("treasury.fee_bps: 12000 bps is above 10000"), "{stderr}");
    assert!(errors[1].contains("slashing.veto_window_epochs: 6 epochs is not shorter than"), "{stderr}");
    assert!(errors[2].contains("oracle.quorum: 1 is not above half of the 3 members"), "{stderr}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn missing_file_fails_with_its_path() {
    let (code, _, stderr) = check(std::path::Path::new("/nonexistent/seqstake.toml"));
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read /nonexistent/seqstake.toml"), "{stderr}");
}
