//! Shared helpers for the simulator's tests: plain reqwest calls over loopback.
#![allow(dead_code)]

use reqwest::header::HeaderMap;
use serde_json::Value;
use signoff::sim::{SimOptions, Simulator};

pub async fn start() -> Simulator {
    start_with(SimOptions::default()).await
}

pub async fn start_with(options: SimOptions) -> Simulator {
    Simulator::start(options).await.expect("the simulator starts on loopback")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("a reqwest client builds")
}

/// A form-encoded body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// POST a form to a token endpoint; returns the status and the JSON body.
pub async fn token_request(sim: &Simulator, path: &str, pairs: &[(&str, &str)]) -> (u16, Value) {
    let resp = client()
        .post(format!("{}{path}", sim.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("the token endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("a JSON body"))
}

/// A v2 client-credentials token for the simulator's own app.
pub async fn token(sim: &Simulator) -> String {
    let o = sim.options().clone();
    let scope = format!("{}/.default", sim.base_url());
    let (status, body) = token_request(
        sim,
        &format!("/{}/oauth2/v2.0/token", o.tenant),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &o.client_id),
            ("client_secret", &o.client_secret),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("an access token").to_string()
}

/// A response's status, headers and text body.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

/// Send a request with a bearer token; `path` is relative to the base URL.
pub async fn send(
    sim: &Simulator,
    token: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Answer {
    let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", sim.base_url()) };
    let mut req = client().request(method.parse().expect("a method"), url).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    let resp = req.send().await.expect("the simulator answers");
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        text: resp.text().await.unwrap_or_default(),
    }
}

pub async fn get(sim: &Simulator, token: &str, path: &str) -> Answer {
    send(sim, token, "GET", path, &[], None).await
}

/// The Infolog text of an F&O error body.
pub fn infolog(body: &Value) -> String {
    body["error"]["innererror"]["message"].as_str().unwrap_or_default().to_string()
}
