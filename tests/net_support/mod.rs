//! Real TLS and proxies on loopback for the connector tests: a private CA made in the test, a TLS front
//! that puts the simulator behind `https://localhost:PORT`, a CONNECT proxy that logs what it carried,
//! and RSA app certificates for certificate credentials. Every server binds 127.0.0.1 and ends with the
//! test's runtime.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, PublicKeyData};
use signoff::sim::{SimOptions, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The subject of the test's private CA, as `connector validate` shows it.
pub const CA_NAME: &str = "Contoso TLS Inspection CA";
/// The subject of the server certificate.
pub const SERVER_NAME: &str = "usmf-sandbox test server";

/// A private CA and one server certificate for `localhost` it issued.
pub struct Pki {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    /// base64 SHA-256 of the server's SubjectPublicKeyInfo: its `pinned_sha256`.
    pub server_pin: String,
}

impl Pki {
    /// A CA and a server certificate valid now, or (with `expired`) one that ended in 2020.
    pub fn new(expired: bool) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::OrganizationName, "Contoso");
        ca.distinguished_name.push(DnType::CommonName, CA_NAME);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        server.distinguished_name.push(DnType::CommonName, SERVER_NAME);
        if expired {
            server.not_before = rcgen::date_time_ymd(2019, 1, 1);
            server.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let server_cert = server.signed_by(&server_key, &issuer).unwrap();
        let pin = sha256_b64(&server_key.subject_public_key_info());
        Pki {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
            server_pin: pin,
        }
    }

    /// Write the CA bundle (what `ca_file` names).
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("company-ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }
}

pub fn sha256_b64(bytes: &[u8]) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// A simulator reachable only as `https://localhost:PORT`, through a TLS front presenting `pki`'s server
/// certificate; `options` as given, except their public URL.
pub async fn tls_simulator(pki: &Pki, mut options: SimOptions) -> (Simulator, String) {
    let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", front.local_addr().unwrap().port());
    options.public_url = Some(url.clone());
    let sim = Simulator::start(options).await.unwrap();
    let backend = sim.addr();
    let certs = vec![rustls_pki_types::CertificateDer::from(
        rustls_pki_types::pem::PemObject::from_pem_slice(pki.server_cert_pem.as_bytes())
            .map(|c: rustls_pki_types::CertificateDer<'static>| c.to_vec())
            .unwrap(),
    )];
    let key: rustls_pki_types::PrivateKeyDer<'static> =
        rustls_pki_types::pem::PemObject::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = front.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the client does not trust us) just ends the connection.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut upstream) = TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (sim, url)
}

/// A forward proxy that only tunnels (`CONNECT`), to loopback only, and logs each request line.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    /// `CONNECT host:port` lines it tunnelled, and `407 …` for those it refused.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// Start; with `credentials` (`user:password`), a tunnel needs `Proxy-Authorization: Basic …`.
    pub async fn start(credentials: Option<&str>) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let expected = credentials.map(|c| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(c)));
        let shared = log.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(tunnel(client, expected.clone(), shared.clone()));
            }
        });
        ConnectProxy { addr, log }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

async fn tunnel(mut client: TcpStream, expected: Option<String>, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await.unwrap_or(0) == 0 || head.len() > 16 * 1024 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let request = head.lines().next().unwrap_or("").to_string();
    let authorization = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization")))
        .map(|(_, v)| v.trim().to_string());
    let target = request.strip_prefix("CONNECT ").and_then(|r| r.split(' ').next()).unwrap_or("").to_string();
    if expected.is_some() && authorization != expected {
        log.lock().unwrap().push(format!("407 {request}"));
        let _ = client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    }
    let port = target.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
    let host = target.rsplit_once(':').map(|(h, _)| h).unwrap_or("");
    let (Some(port), true) = (port, matches!(host, "localhost" | "127.0.0.1")) else {
        log.lock().unwrap().push(format!("403 {request}"));
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    log.lock().unwrap().push(request);
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)).await else { return };
    if client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// An app certificate credential: an RSA key and a self-signed certificate, as uploaded to Entra.
pub struct AppCertificate {
    /// The certificate alone (what is registered on the app).
    pub cert_pem: String,
    /// The key and the certificate in one file's text (what `client_certificate_file` holds).
    pub bundle_pem: String,
}

impl AppCertificate {
    pub fn new(subject: &str) -> AppCertificate {
        use rsa::pkcs8::EncodePrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes().to_vec());
        let pair = KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, subject);
        let cert = params.self_signed(&pair).unwrap();
        AppCertificate { cert_pem: cert.pem(), bundle_pem: format!("{}{}", pair.serialize_pem(), cert.pem()) }
    }

    /// Write the key and certificate to an owner-only file.
    pub fn write(&self, dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &self.bundle_pem).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
        path
    }
}
