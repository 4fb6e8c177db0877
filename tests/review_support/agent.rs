//! A real ssh-agent for one test: `ssh-agent -D -a <tempdir>/agent.sock`, keys made by `ssh-keygen` and
//! loaded with `ssh-add`, everything under a tempdir, killed when dropped. Missing OpenSSH client tools
//! fail the test with a message saying so (CI installs openssh-client): these tests never pass silently.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running ssh-agent on a Unix socket in its own tempdir.
pub struct Agent {
    child: Child,
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
}

fn tool(name: &str) -> Command {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|d| d.join(name).is_file());
    assert!(
        found,
        "`{name}` is not installed: the signed-identity tests need the OpenSSH client tools \
         (ssh-agent, ssh-add, ssh-keygen); install openssh-client (`apt-get install openssh-client`)"
    );
    Command::new(name)
}

fn run(mut cmd: Command, what: &str) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

impl Agent {
    /// Start an agent with no keys.
    pub fn start() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let child = tool("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start ssh-agent");
        let started = Instant::now();
        while !socket.exists() {
            assert!(started.elapsed() < Duration::from_secs(10), "ssh-agent did not create {}", socket.display());
            std::thread::sleep(Duration::from_millis(20));
        }
        Agent { child, dir, socket }
    }

    /// A new unencrypted Ed25519 key pair `name` in the agent's tempdir (not added to the agent).
    pub fn keygen(&self, name: &str) -> Key {
        let path = self.dir.path().join(name);
        let mut cmd = tool("ssh-keygen");
        cmd.args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"]).arg(&path);
        run(cmd, "ssh-keygen -t ed25519");
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap().trim().to_string();
        Key { path, public }
    }

    /// `ssh-add` the key into this agent.
    pub fn add(&self, key: &Key) {
        let mut cmd = tool("ssh-add");
        cmd.arg("-q").arg(&key.path).env("SSH_AUTH_SOCK", &self.socket);
        run(cmd, "ssh-add");
    }

    /// A signer talking to this agent.
    pub fn signer(&self) -> std::sync::Arc<signoff::sign::AgentSigner> {
        std::sync::Arc::new(signoff::sign::AgentSigner::at(&self.socket))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A key pair on disk: `path` (private) and its `.pub` line.
pub struct Key {
    pub path: PathBuf,
    /// `ssh-ed25519 AAAA… name`
    pub public: String,
}

/// Write an allowed-signers file of `(principals, key)` lines at `path`.
pub fn write_allowed_signers(path: &Path, entries: &[(&str, &Key)]) {
    let text: String = entries.iter().map(|(who, key)| format!("{who} {}\n", key.public)).collect();
    std::fs::write(path, text).unwrap();
}

/// `ssh-keygen -Y verify -f allowed -I principal -n signoff -s sig < message`: whether OpenSSH itself,
/// as git calls it, accepts the signature.
pub fn ssh_keygen_verifies(dir: &Path, allowed: &Path, principal: &str, message: &[u8], signature: &str) -> bool {
    use std::io::Write as _;
    let sig_path = dir.join("decision.sig");
    std::fs::write(&sig_path, signature).unwrap();
    let mut child = tool("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", principal, "-n", "signoff", "-s"])
        .arg(&sig_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(message).unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        eprintln!(
            "ssh-keygen -Y verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.status.success()
}
