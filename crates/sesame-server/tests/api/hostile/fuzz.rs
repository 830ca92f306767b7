//! An HTTP fuzz smoke: valid requests (whoami by token, cookie and bearer; login, registration
//! and settings submits as JSON and as forms, API and browser; admin identity create, replace,
//! patch, batch and listings; session listings; `return_to` redirects) sent as raw bytes over TCP
//! after bounded random mutations: byte flips, truncation, deep nesting, NUL, wrong JSON types,
//! duplicated keys, bad UUIDs and cookies, wrong content types, oversized headers and queries.
//! Any 5xx fails, and so does a server that stops answering.
//!
//! The mutations come from a fixed seed, so a run is repeatable; `SESAME_FUZZ_SEED=<n>` adds a run
//! from another seed, and `SESAME_FUZZ_REQUESTS=<n>` changes how many requests each seed sends. A
//! failure names the seed and the request index that reproduce it.

use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const FIXED_SEED: u64 = 0x5e5a_3e00_f022_2026;
const DEFAULT_REQUESTS: usize = 3000;
const CONCURRENCY: usize = 4;
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Port {
    Public,
    Admin,
}

/// One request, as bytes on the wire will carry it.
#[derive(Debug, Clone)]
struct Raw {
    port: Port,
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Raw {
    fn new(port: Port, method: &str, target: &str) -> Self {
        Self {
            port,
            method: method.to_owned(),
            target: target.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_owned(), value.as_bytes().to_vec()));
        self
    }

    fn json(self, body: &Value) -> Self {
        let mut r = self.header("Content-Type", "application/json");
        r.body = body.to_string().into_bytes();
        r
    }

    fn form(self, body: &str) -> Self {
        let mut r = self.header("Content-Type", "application/x-www-form-urlencoded");
        r.body = body.as_bytes().to_vec();
        r
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        // Always the real length: a request that announces more than it sends would only test
        // the client's patience.
        out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// What a failure report shows: the start of the head, and the start of the body.
    fn describe(&self) -> String {
        let bytes = self.bytes();
        let head_len = bytes.len() - self.body.len();
        let head = &bytes[..head_len.min(500)];
        let body = &self.body[..self.body.len().min(500)];
        format!(
            "head {:?} ({head_len} bytes)\nbody {:?} ({} bytes)",
            String::from_utf8_lossy(head),
            String::from_utf8_lossy(body),
            self.body.len()
        )
    }
}

/// The valid requests mutations start from.
async fn templates(app: &TestApp) -> Vec<Raw> {
    let (token, identity) = user(app, "fuzz@example.com").await;
    let res = app.whoami(&token).await;
    let session = expect_json(res, StatusCode::OK).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = sesame_testkit::sealed_session_cookie(
        &token,
        chrono::Utc::now() + chrono::Duration::hours(1),
    );
    let login_flow = app.login_flow().await["id"].as_str().unwrap().to_owned();
    let registration_flow = app.registration_flow().await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .public(Method::GET, "/self-service/settings/api")
        .header("X-Session-Token", &token)
        .send()
        .await
        .unwrap();
    let settings_flow = expect_json(res, StatusCode::OK).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A browser flow with its anti-CSRF cookie and token.
    let res = app
        .public(Method::GET, "/self-service/login/browser")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let csrf_cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let browser_flow = expect_json(res, StatusCode::OK).await;
    let csrf_token = browser_flow["ui"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["attributes"]["name"] == "csrf_token")
        .unwrap()["attributes"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser_flow = browser_flow["id"].as_str().unwrap().to_owned();
    let csrf_form: String = form_urlencoded::byte_serialize(csrf_token.as_bytes()).collect();

    let login =
        json!({"method": "password", "identifier": "fuzz@example.com", "password": PASSWORD});
    let registration = json!({"method": "password", "password": PASSWORD, "traits": {"email": "fuzz-new@example.com", "name": {"first": "F", "last": "Z"}}});
    let profile = json!({"method": "profile", "traits": {"email": "fuzz@example.com", "name": {"first": "Fu"}}});
    let create = json!({
        "schema_id": "default",
        "traits": {"email": "fuzz-admin@example.com"},
        "external_id": "fuzz-external",
        "metadata_public": {"plan": ["a", {"tier": 1}]},
        "metadata_admin": {"note": "x"},
        "credentials": {"password": {"config": {"password": PASSWORD}}},
        "state": "active"
    });
    let t = token.as_str();
    vec![
        Raw::new(Port::Public, "GET", "/sessions/whoami").header("X-Session-Token", t),
        Raw::new(Port::Public, "GET", "/sessions/whoami").header("Cookie", &cookie),
        Raw::new(Port::Public, "GET", "/sessions/whoami")
            .header("Authorization", &format!("Bearer {t}")),
        Raw::new(Port::Public, "GET", "/sessions?page=0&per_page=2").header("X-Session-Token", t),
        Raw::new(Port::Public, "GET", "/sessions?page_size=1&page_token=eyJvZmZzZXQiOiIwIiwidiI6Mn0")
            .header("Cookie", &cookie),
        Raw::new(Port::Public, "DELETE", &format!("/sessions/{}", uuid::Uuid::new_v4()))
            .header("X-Session-Token", t),
        Raw::new(Port::Public, "GET", "/self-service/login/api"),
        Raw::new(Port::Public, "GET", "/self-service/registration/api?return_to=https://app.example.com/welcome/x"),
        Raw::new(Port::Public, "GET", "/self-service/login/browser?return_to=https://app.example.com/welcome/x&aal=aal1")
            .header("Accept", "application/json"),
        Raw::new(Port::Public, "GET", "/self-service/registration/browser?return_to=/ui/welcome"),
        Raw::new(Port::Public, "GET", &format!("/self-service/login/flows?id={login_flow}")),
        Raw::new(Port::Public, "GET", "/self-service/settings/api").header("X-Session-Token", t),
        Raw::new(Port::Public, "POST", &format!("/self-service/login?flow={login_flow}")).json(&login),
        Raw::new(Port::Public, "POST", &format!("/self-service/login?flow={login_flow}"))
            .form(&format!("method=password&identifier=fuzz%40example.com&password={PASSWORD}")),
        Raw::new(Port::Public, "POST", &format!("/self-service/registration?flow={registration_flow}"))
            .json(&registration),
        Raw::new(Port::Public, "POST", &format!("/self-service/registration?flow={registration_flow}"))
            .form(&format!("method=password&password={PASSWORD}&traits.email=fuzz-form%40example.com&traits.name.first=F")),
        Raw::new(Port::Public, "POST", &format!("/self-service/settings?flow={settings_flow}"))
            .header("X-Session-Token", t)
            .json(&profile),
        Raw::new(Port::Public, "POST", &format!("/self-service/settings?flow={settings_flow}"))
            .header("X-Session-Token", t)
            .form("method=profile&traits.email=fuzz%40example.com&traits.name.last=Z"),
        Raw::new(Port::Public, "POST", &format!("/self-service/login?flow={browser_flow}"))
            .header("Cookie", &csrf_cookie)
            .form(&format!("method=password&identifier=fuzz%40example.com&password={PASSWORD}&csrf_token={csrf_form}")),
        Raw::new(Port::Public, "POST", &format!("/self-service/login?flow={browser_flow}"))
            .header("Cookie", &csrf_cookie)
            .header("Accept", "application/json")
            .json(&json!({"method": "password", "identifier": "fuzz@example.com", "password": PASSWORD, "csrf_token": csrf_token})),
        Raw::new(Port::Public, "GET", &format!("/ui/login?flow={browser_flow}")).header("Cookie", &csrf_cookie),
        Raw::new(Port::Admin, "POST", "/admin/identities").json(&create),
        Raw::new(Port::Admin, "PUT", &format!("/admin/identities/{identity}")).json(&json!({
            "traits": {"email": "fuzz@example.com", "name": {"first": "F"}},
            "metadata_public": {"a": 1}, "state": "active"
        })),
        Raw::new(Port::Admin, "PATCH", &format!("/admin/identities/{identity}")).json(&json!([
            {"op": "replace", "path": "/metadata_admin", "value": {"x": [1, 2]}},
            {"op": "add", "path": "/metadata_public/b/c", "value": "d"},
            {"op": "remove", "path": "/metadata_public/b"}
        ])),
        Raw::new(Port::Admin, "PATCH", "/admin/identities").json(&json!({"identities": [
            {"create": {"traits": {"email": "fuzz-batch@example.com"}, "external_id": "fb"}, "patch_id": uuid::Uuid::new_v4()}
        ]})),
        Raw::new(Port::Admin, "GET", "/admin/identities?page_size=2&credentials_identifier=fuzz%40example.com"),
        Raw::new(Port::Admin, "GET", &format!("/admin/identities?ids={identity}&page=0&per_page=2")),
        Raw::new(Port::Admin, "GET", &format!("/admin/identities/{identity}?include_credential=password")),
        Raw::new(Port::Admin, "GET", "/admin/identities/by/external/fuzz-external"),
        Raw::new(Port::Admin, "GET", "/admin/sessions?page_size=1&expand=identity&active=true"),
        Raw::new(Port::Admin, "GET", &format!("/admin/identities/{identity}/sessions?active=true&per_page=1")),
        Raw::new(Port::Admin, "GET", &format!("/admin/sessions/{session}?expand=devices")),
        Raw::new(Port::Admin, "PATCH", &format!("/admin/sessions/{session}/extend")),
        Raw::new(Port::Admin, "POST", "/admin/sessions")
            .json(&json!({"action": "disable", "sessions": [uuid::Uuid::new_v4()]})),
    ]
}

// --- mutations ------------------------------------------------------------------------------------

fn random_text(rng: &mut StdRng, max: usize) -> String {
    const ALPHABET: &[u8] = b"abcXYZ019-_.~%+&=;:/?#[]{}\"'\\ <>@!$*,\0\x7f\xc3\xa9";
    let len = rng.gen_range(0..=max);
    let bytes: Vec<u8> = (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn random_value(rng: &mut StdRng) -> Value {
    match rng.gen_range(0..9) {
        0 => Value::Null,
        1 => json!(rng.r#gen::<bool>()),
        2 => json!(rng.r#gen::<i64>()),
        3 => json!(rng.r#gen::<f64>() * 1e300),
        4 => json!(random_text(rng, 12)),
        5 => json!([random_text(rng, 4), 1, null]),
        6 => json!({"a": {"b": [random_text(rng, 4)]}}),
        7 => json!("\u{0}"),
        _ => nested(rng.gen_range(60..140)),
    }
}

/// A random place in a JSON value: the value there is handed to `f`.
fn at_random_place(rng: &mut StdRng, v: &mut Value, f: &mut dyn FnMut(&mut StdRng, &mut Value)) {
    let mut current = v;
    loop {
        let children = match current {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if children == 0 || rng.gen_range(0..3) == 0 {
            f(rng, current);
            return;
        }
        let pick = rng.gen_range(0..children);
        current = match current {
            Value::Object(m) => m.values_mut().nth(pick).unwrap(),
            Value::Array(a) => &mut a[pick],
            _ => unreachable!(),
        };
    }
}

/// Duplicates one member of the top-level object, textually (serde_json keeps one of each).
fn duplicate_json_key(rng: &mut StdRng, body: &Value) -> Option<Vec<u8>> {
    let members = body.as_object()?;
    let (key, _) = members.iter().nth(rng.gen_range(0..members.len().max(1)))?;
    let mut parts: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::from(k.as_str())))
        .collect();
    parts.push(format!(
        "{}:{}",
        Value::from(key.as_str()),
        random_value(rng)
    ));
    Some(format!("{{{}}}", parts.join(",")).into_bytes())
}

fn replace_uuids(rng: &mut StdRng, s: &str) -> String {
    let bad = [
        "not-a-uuid".to_owned(),
        "00000000-0000-0000-0000-000000000000".to_owned(),
        "%00".to_owned(),
        "%FF%FE".to_owned(),
        "x".repeat(5000),
        "5b2b5e43-6c43-4e0c-9a37-6b1c2f6a9d1".to_owned(),
        "{5b2b5e43-6c43-4e0c-9a37-6b1c2f6a9d10}".to_owned(),
        "..%2f..%2fetc".to_owned(),
    ];
    let replacement = &bad[rng.gen_range(0..bad.len())];
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        let candidate = &rest[start..];
        if candidate
            .get(..36)
            .is_some_and(|c| uuid::Uuid::parse_str(c).is_ok())
        {
            out.push_str(&rest[..start]);
            out.push_str(replacement);
            rest = &candidate[36..];
        } else {
            let next = start + candidate.chars().next().map_or(1, char::len_utf8);
            out.push_str(&rest[..next]);
            rest = &rest[next..];
        }
    }
    out.push_str(rest);
    out
}

fn is_form(r: &Raw) -> bool {
    r.headers
        .iter()
        .any(|(_, v)| v.starts_with(b"application/x-www-form-urlencoded"))
}

/// One to three mutations of a template.
fn mutate(rng: &mut StdRng, mut r: Raw) -> Raw {
    for _ in 0..rng.gen_range(1..=3) {
        match rng.gen_range(0..17) {
            // Byte flips in the body.
            0 if !r.body.is_empty() => {
                for _ in 0..rng.gen_range(1..8) {
                    let i = rng.gen_range(0..r.body.len());
                    r.body[i] ^= 1 << rng.gen_range(0..8);
                }
            }
            // Truncation.
            1 if !r.body.is_empty() => {
                let at = rng.gen_range(0..r.body.len());
                r.body.truncate(at);
            }
            // Depth: a nested JSON body, a deep form key, or a deep value inside the body.
            2 => {
                let levels = [70, 200, 1_000, 20_000, 100_000][rng.gen_range(0..5)];
                r.body = match rng.gen_range(0..3) {
                    0 => "[".repeat(levels).into_bytes(),
                    1 => format!("traits{}.b=x&method=password", ".a".repeat(levels)).into_bytes(),
                    _ => format!(
                        "{}1{}",
                        "{\"a\":".repeat(levels.min(5_000)),
                        "}".repeat(levels.min(5_000))
                    )
                    .into_bytes(),
                };
            }
            3 => {
                if let Ok(mut v) = sesame_testkit::serde_json::from_slice::<Value>(&r.body) {
                    let levels = rng.gen_range(60..130);
                    at_random_place(rng, &mut v, &mut |_, slot| *slot = nested(levels));
                    r.body = v.to_string().into_bytes();
                }
            }
            // NUL: in a JSON string, in the raw body, in the query, in the path.
            4 => {
                if let Ok(mut v) = sesame_testkit::serde_json::from_slice::<Value>(&r.body) {
                    at_random_place(rng, &mut v, &mut |_, slot| match slot {
                        Value::String(s) => s.push('\0'),
                        other => *other = json!("\u{0}"),
                    });
                    r.body = v.to_string().into_bytes();
                } else if !r.body.is_empty() {
                    let i = rng.gen_range(0..=r.body.len());
                    let nul: &[u8] = if is_form(&r) { b"%00" } else { b"\0" };
                    r.body.splice(i..i, nul.iter().copied());
                }
            }
            5 => {
                let sep = if r.target.contains('?') { '&' } else { '?' };
                let nul = ["x=%00", "%00=1", "flow=%00", "return_to=%00", "id=a%00"];
                r.target = format!("{}{sep}{}", r.target, nul[rng.gen_range(0..nul.len())]);
            }
            // Wrong types.
            6 => {
                if let Ok(mut v) = sesame_testkit::serde_json::from_slice::<Value>(&r.body) {
                    at_random_place(rng, &mut v, &mut |rng, slot| *slot = random_value(rng));
                    r.body = v.to_string().into_bytes();
                }
            }
            // Duplicated keys.
            7 => {
                if let Some(body) = sesame_testkit::serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|v| duplicate_json_key(rng, &v))
                {
                    r.body = body;
                } else if is_form(&r) {
                    let dup = r
                        .body
                        .split(|&b| b == b'&')
                        .next()
                        .unwrap_or_default()
                        .to_vec();
                    r.body.push(b'&');
                    r.body.extend(dup);
                    r.body.extend(random_text(rng, 6).bytes());
                }
            }
            // Bad UUIDs in the path and query.
            8 => r.target = replace_uuids(rng, &r.target),
            // Bad cookies and tokens.
            9 => {
                let values = [
                    "ory_kratos_session=garbage".to_owned(),
                    format!("ory_kratos_session={}", "A".repeat(5000)),
                    "ory_kratos_session=; ory_kratos_session=\"\"".to_owned(),
                    format!("{}; a=b", random_text(rng, 40).replace(['\r', '\n', '\0', '\x7f'], "")),
                    "ory_kratos_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
                ];
                let cookie = values[rng.gen_range(0..values.len())].clone();
                r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("cookie"));
                r.headers.push(("Cookie".into(), cookie.into_bytes()));
                let token = ["", "ory_st_", "x", "Bearer", "ory_st_\u{e9}"][rng.gen_range(0..5)];
                r.headers
                    .push(("X-Session-Token".into(), token.as_bytes().to_vec()));
            }
            // Wrong content types.
            10 => {
                let types = [
                    "application/json",
                    "application/x-www-form-urlencoded",
                    "text/plain",
                    "multipart/form-data; boundary=x",
                    "application/json; charset=latin1",
                    "",
                ];
                r.headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
                let t = types[rng.gen_range(0..types.len())];
                if !t.is_empty() {
                    r.headers
                        .push(("Content-Type".into(), t.as_bytes().to_vec()));
                }
            }
            // Oversized and odd headers.
            11 => {
                let size = [1_000, 16_000, 60_000][rng.gen_range(0..3)];
                let names = [
                    "X-Forwarded-For",
                    "User-Agent",
                    "Accept",
                    "Cookie",
                    "X-Request-ID",
                    "Origin",
                    "X-Forwarded-Host",
                ];
                let name = names[rng.gen_range(0..names.len())];
                let value = match name {
                    "X-Forwarded-For" => (0..size / 16)
                        .map(|i| format!("10.0.{}.{}, ", i % 256, i % 200))
                        .collect(),
                    _ => "a".repeat(size),
                };
                r.headers.push((name.into(), value.into_bytes()));
            }
            12 => {
                for i in 0..rng.gen_range(10..90) {
                    r.headers.push((format!("X-Many-{i}"), b"v".to_vec()));
                }
            }
            // A huge query.
            13 => {
                let sep = if r.target.contains('?') { '&' } else { '?' };
                let junk: Vec<String> = (0..rng.gen_range(100..2000))
                    .map(|i| format!("p{i}={}", "v".repeat(20)))
                    .collect();
                r.target = format!("{}{sep}{}", r.target, junk.join("&"));
            }
            // Another method.
            14 => {
                let methods = [
                    "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "FROB",
                ];
                r.method = methods[rng.gen_range(0..methods.len())].to_owned();
            }
            // Paging parameters out of range or crafted.
            15 => {
                let paging = [
                    "page=-1",
                    "page=99999999999999999999",
                    "page=9223372036854775807&per_page=1000",
                    "per_page=0",
                    "page_size=-5",
                    "page_size=1&page_token=garbage",
                    // Offset u64::MAX, and a session cursor in the year 262142.
                    "page_size=2&page_token=eyJvZmZzZXQiOiIxODQ0Njc0NDA3MzcwOTU1MTYxNSIsInYiOjJ9",
                    "page_size=2&page_token=aWQ9MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwL2NyZWF0ZWRfYXQ9MjYyMTQyLTEyLTMxIDIzOjU5OjU5",
                    "page_token=00000000-0000-0000-0000-000000000000&page_size=99999",
                ];
                let sep = if r.target.contains('?') { '&' } else { '?' };
                r.target = format!(
                    "{}{sep}{}",
                    r.target,
                    paging[rng.gen_range(0..paging.len())]
                );
            }
            // Byte flips in the request target (the request line may become invalid).
            _ => {
                let mut target = r.target.clone().into_bytes();
                for _ in 0..rng.gen_range(1..4) {
                    let i = rng.gen_range(0..target.len());
                    target[i] = [
                        b'%', b'/', b'?', b'&', b'=', b'.', b'#', b'\\', b'0', b'f', b' ', 0x80,
                    ][rng.gen_range(0..12)];
                }
                r.target = String::from_utf8_lossy(&target).into_owned();
            }
        }
    }
    r
}

// --- the wire ------------------------------------------------------------------------------------

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// Sends raw bytes and reads the status of the answer: `None` when the server closed the
/// connection without one (as it may for a request line it cannot parse).
async fn send(port: u16, bytes: &[u8]) -> Result<Option<u16>, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        // The server may answer (and close) before it has read a body it refuses.
        let _ = stream.write_all(bytes).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let status = answer
            .strip_prefix(b"HTTP/1.1 ")
            .and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok())
            .and_then(|code| code.parse::<u16>().ok());
        Ok(status)
    };
    tokio::time::timeout(ANSWER_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {ANSWER_TIMEOUT:?}"))?
}

async fn run(app: &TestApp, seed: u64, requests: usize) {
    let templates = std::sync::Arc::new(templates(app).await);
    let ports = (port_of(&app.public_url), port_of(&app.admin_url));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..CONCURRENCY {
        let templates = templates.clone();
        workers.spawn(async move {
            let mut answered = std::collections::BTreeMap::<Option<u16>, usize>::new();
            for index in (worker..requests).step_by(CONCURRENCY) {
                let mut rng = StdRng::seed_from_u64(
                    seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                );
                let template = templates[rng.gen_range(0..templates.len())].clone();
                let request = mutate(&mut rng, template);
                let port = match request.port {
                    Port::Public => ports.0,
                    Port::Admin => ports.1,
                };
                let status = send(port, &request.bytes()).await.unwrap_or_else(|e| {
                    panic!(
                        "SESAME_FUZZ_SEED={seed} request {index}: {e}\n{}",
                        request.describe()
                    )
                });
                // No answer at all is a failure too: hyper answers what it cannot parse with a
                // 4xx, so a closed connection means a handler panicked.
                assert!(
                    status.is_some_and(|s| s < 500),
                    "SESAME_FUZZ_SEED={seed} request {index} answered {status:?}\n{}",
                    request.describe()
                );
                *answered.entry(status).or_default() += 1;
            }
            answered
        });
    }
    let mut answered = std::collections::BTreeMap::<Option<u16>, usize>::new();
    while let Some(done) = workers.join_next().await {
        match done {
            Ok(counts) => {
                for (status, n) in counts {
                    *answered.entry(status).or_default() += n;
                }
            }
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a fuzz worker failed: {e}"),
        }
        assert_alive(app).await;
    }
    eprintln!("fuzz seed {seed}: {requests} requests, answers by status: {answered:?}");
    assert!(
        answered.keys().any(|s| s.is_some_and(|s| s < 300)),
        "some mutated requests still succeed: the templates are valid"
    );
}

api_test!(
    mutated_requests_never_get_a_5xx_nor_stop_the_server,
    |backend| async move {
        // The cause of a 5xx is logged at error level: shown next to the failing request.
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::ERROR)
            .with_test_writer()
            .try_init();
        let app = TestApp::builder(backend)
            .env(
                "SELFSERVICE_ALLOWED_RETURN_URLS",
                "https://app.example.com/welcome",
            )
            .spawn()
            .await;
        let requests = std::env::var("SESAME_FUZZ_REQUESTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(DEFAULT_REQUESTS);
        let started = std::time::Instant::now();
        run(&app, FIXED_SEED, requests).await;
        if let Some(seed) = std::env::var("SESAME_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            run(&app, seed, requests).await;
        }
        eprintln!(
            "fuzz smoke on {:?} took {:?}",
            app.backend,
            started.elapsed()
        );
        assert_alive(&app).await;
    }
);
