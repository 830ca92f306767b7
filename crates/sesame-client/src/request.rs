//! The engine under every request builder: headers, interceptors, cancellation, same-origin
//! redirects, progress reporting, and the mapping of answers to [`Response`] or [`Error`].

use crate::client::{Client, RequestParts, ResponseParts, parse_header};
use crate::error::{Error, ErrorKind, Refusals, classify, describe};
use crate::response::{RawResponse, RequestInfo, Response};
use futures_util::StreamExt;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A progress callback: `(bytes done, bytes total)`.
pub(crate) type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;
/// Decides which statuses count as success.
pub(crate) type ValidateFn = Arc<dyn Fn(StatusCode) -> bool + Send + Sync>;

const MAX_REDIRECTS: usize = 10;
/// Request bodies are handed to the connection in chunks of this size, for send progress.
const SEND_CHUNK: usize = 8 * 1024;

/// One request being built.
pub(crate) struct Call {
    client: Client,
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<bytes::Bytes>,
    extra: Map<String, Value>,
    validate_status: Option<ValidateFn>,
    on_send_progress: Option<ProgressFn>,
    on_receive_progress: Option<ProgressFn>,
    cancel: Option<CancellationToken>,
    timeout: Option<Duration>,
    invalid: Option<String>,
}

/// A response that arrived, before it is decoded.
pub(crate) struct Received {
    raw: RawResponse,
    accepted: bool,
    redirects: Vec<String>,
    extra: Map<String, Value>,
    request: RequestInfo,
}

impl Call {
    pub(crate) fn new(client: Client, method: Method, url: String) -> Self {
        Self {
            client,
            method,
            url,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: None,
            extra: Map::new(),
            validate_status: None,
            on_send_progress: None,
            on_receive_progress: None,
            cancel: None,
            timeout: None,
            invalid: None,
        }
    }

    pub(crate) fn header(&mut self, name: &str, value: &str) {
        match parse_header(name, value) {
            Ok((name, value)) => {
                self.headers.insert(name, value);
            }
            Err(e) => self.invalid = Some(e),
        }
    }

    /// Fails the request at send time with [`ErrorKind::Config`]; nothing is sent.
    pub(crate) fn invalid(&mut self, message: String) {
        self.invalid = Some(message);
    }

    pub(crate) fn query(&mut self, name: &str, value: &str) {
        self.query.push((name.to_owned(), value.to_owned()));
    }

    /// Sets a JSON body (and its `Content-Type`).
    pub(crate) fn json<B: serde::Serialize + ?Sized>(&mut self, body: &B) {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Some(bytes.into());
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Err(e) => self.invalid = Some(format!("the request body does not serialise: {e}")),
        }
    }

    pub(crate) fn extra(&mut self, key: String, value: Value) {
        self.extra.insert(key, value);
    }

    pub(crate) fn validate_status(&mut self, f: ValidateFn) {
        self.validate_status = Some(f);
    }

    pub(crate) fn on_send_progress(&mut self, f: ProgressFn) {
        self.on_send_progress = Some(f);
    }

    pub(crate) fn on_receive_progress(&mut self, f: ProgressFn) {
        self.on_receive_progress = Some(f);
    }

    pub(crate) fn cancellation(&mut self, token: CancellationToken) {
        self.cancel = Some(token);
    }

    pub(crate) fn timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    /// Sends the request and reads the whole body. Non-success statuses are not errors yet.
    pub(crate) async fn execute(self) -> Result<Received, Error> {
        let inner = self.client.inner.clone();
        let unsent = |message: String| {
            let request = RequestInfo {
                method: self.method.clone(),
                url: self.url.clone(),
                headers: HeaderMap::new(),
            };
            Err(Error::new(ErrorKind::Config(message), request, None))
        };
        let mut url = match reqwest::Url::parse(&self.url) {
            Ok(url) => url,
            Err(_) if self.invalid.is_some() => return unsent(self.invalid.unwrap_or_default()),
            Err(e) => return unsent(format!("invalid URL: {e}")),
        };
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let mut headers = inner.default_headers.clone();
        for (name, value) in &self.headers {
            headers.insert(name, value.clone());
        }
        let mut parts = RequestParts {
            method: self.method,
            url: url.to_string(),
            headers,
            extra: self.extra,
        };
        for interceptor in &inner.interceptors {
            interceptor.on_request(&mut parts);
        }
        let request = RequestInfo {
            method: parts.method.clone(),
            url: parts.url.clone(),
            headers: parts.headers.clone(),
        };
        let fail = |kind| Err(Error::new(kind, request.clone(), None));
        if let Some(message) = self.invalid {
            return fail(ErrorKind::Config(message));
        }
        let url = match reqwest::Url::parse(&parts.url) {
            Ok(url) => url,
            Err(e) => return fail(ErrorKind::Config(format!("invalid URL: {e}"))),
        };
        if self
            .cancel
            .as_ref()
            .is_some_and(CancellationToken::is_cancelled)
        {
            return fail(ErrorKind::Cancelled);
        }
        let exchange = async {
            let (res, redirects) = send_following(
                &inner.http,
                &parts,
                url,
                self.body.as_ref(),
                self.on_send_progress.clone(),
            )
            .await?;
            let status = res.status();
            let headers = res.headers().clone();
            for interceptor in &inner.interceptors {
                interceptor.on_response(&ResponseParts {
                    status,
                    headers: &headers,
                    extra: &parts.extra,
                });
            }
            let body = read_body(res, self.on_receive_progress.as_deref()).await?;
            Ok::<_, ErrorKind>((
                RawResponse {
                    status,
                    headers,
                    body,
                },
                redirects,
            ))
        };
        // The deadline covers the whole exchange: connecting, redirects followed and the body.
        let deadline = self.timeout.or(inner.timeout);
        let exchange = async {
            match deadline {
                Some(deadline) => tokio::time::timeout(deadline, exchange)
                    .await
                    .unwrap_or(Err(ErrorKind::Timeout)),
                None => exchange.await,
            }
        };
        let outcome = match &self.cancel {
            Some(token) => tokio::select! {
                biased;
                () = token.cancelled() => Err(ErrorKind::Cancelled),
                outcome = exchange => outcome,
            },
            None => exchange.await,
        };
        let (raw, redirects) = match outcome {
            Ok(ok) => ok,
            Err(kind) => return fail(kind),
        };
        let accepted = match &self.validate_status {
            Some(validate) => validate(raw.status),
            None => raw.status.is_success(),
        };
        Ok(Received {
            raw,
            accepted,
            redirects,
            extra: parts.extra,
            request,
        })
    }
}

impl Received {
    /// Decodes an accepted answer as `T`, or turns a refused one into its typed error.
    pub(crate) fn decode<T: DeserializeOwned>(
        self,
        refusals: Refusals,
    ) -> Result<Response<T>, Error> {
        if !self.accepted {
            let kind = classify(self.raw.status, &self.raw.body, refusals);
            return Err(Error::new(kind, self.request, Some(self.raw)));
        }
        let body: &[u8] = if self.raw.body.is_empty() {
            b"null"
        } else {
            &self.raw.body
        };
        match serde_json::from_slice::<T>(body) {
            Ok(data) => Ok(Response {
                data,
                status_text: self
                    .raw
                    .status
                    .canonical_reason()
                    .unwrap_or_default()
                    .to_owned(),
                is_redirect: self.raw.status.is_redirection(),
                status: self.raw.status,
                headers: self.raw.headers,
                redirects: self.redirects,
                extra: self.extra,
                request: self.request,
            }),
            Err(e) => Err(Error::new(
                ErrorKind::Decode {
                    message: e.to_string(),
                },
                self.request,
                Some(self.raw),
            )),
        }
    }
}

fn transport(error: reqwest::Error) -> ErrorKind {
    if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport(describe(&error.without_url()))
    }
}

/// Sends, following same-origin redirects only: credentials never leave the origin they were
/// meant for, and a cross-origin redirect is returned as it is. A 303 continues with a bodiless
/// `GET`; 307 and 308 repeat the method and body.
async fn send_following(
    http: &reqwest::Client,
    parts: &RequestParts,
    mut url: reqwest::Url,
    body: Option<&bytes::Bytes>,
    on_send_progress: Option<ProgressFn>,
) -> Result<(reqwest::Response, Vec<String>), ErrorKind> {
    let mut method = parts.method.clone();
    let mut body = body.cloned();
    let mut redirects = Vec::new();
    loop {
        let mut request = http
            .request(method.clone(), url.clone())
            .headers(parts.headers.clone());
        // Progress is reported for the first request only; redirects repeat what was sent.
        let progress = on_send_progress.clone().filter(|_| redirects.is_empty());
        match (&body, &progress) {
            (Some(bytes), Some(progress)) => {
                request =
                    request
                        .header(CONTENT_LENGTH, bytes.len())
                        .body(reqwest::Body::wrap_stream(progress_stream(
                            bytes.clone(),
                            progress.clone(),
                        )));
            }
            (Some(bytes), None) => request = request.body(bytes.clone()),
            (None, _) => {}
        }
        let res = request.send().await.map_err(transport)?;
        if let (None, Some(progress)) = (&body, &progress) {
            // A bodiless request is completely sent once its head is written.
            progress(0, 0);
        }
        let status = res.status();
        let next = res
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| url.join(l).ok());
        match next {
            Some(next)
                if status.is_redirection()
                    && status != StatusCode::NOT_MODIFIED
                    && redirects.len() < MAX_REDIRECTS
                    && next.origin() == url.origin() =>
            {
                if status == StatusCode::SEE_OTHER
                    || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                        && method == Method::POST)
                {
                    method = Method::GET;
                    body = None;
                }
                redirects.push(next.to_string());
                url = next;
            }
            _ => return Ok((res, redirects)),
        }
    }
}

/// The body as a stream of chunks that reports `(bytes handed to the connection, total)` as each
/// chunk is taken, the last report being `(total, total)`. (The connection stops polling once it
/// has `Content-Length` bytes, so the report goes with the chunk, not after the stream's end.)
fn progress_stream(
    bytes: bytes::Bytes,
    progress: ProgressFn,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    let total = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if bytes.is_empty() {
        progress(0, 0);
    }
    let chunks: Vec<bytes::Bytes> = (0..bytes.len())
        .step_by(SEND_CHUNK)
        .map(|start| bytes.slice(start..(start + SEND_CHUNK).min(bytes.len())))
        .collect();
    let mut done: u64 = 0;
    futures_util::stream::iter(chunks).map(move |chunk| {
        done += u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        progress(done, total);
        Ok(chunk)
    })
}

/// Streams the body, reporting `(done, total)`: total is the `Content-Length`, or the bytes so far
/// when unknown; the last call always has `done == total`.
async fn read_body(
    res: reqwest::Response,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
) -> Result<Vec<u8>, ErrorKind> {
    let total = res.content_length();
    let capacity = usize::try_from(total.unwrap_or(0).min(1 << 20)).unwrap_or(0);
    let mut body = Vec::with_capacity(capacity);
    let mut done: u64 = 0;
    let mut last = None;
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(transport)?;
        done += u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        body.extend_from_slice(&chunk);
        if let Some(progress) = progress {
            let reported = (done, total.unwrap_or(done).max(done));
            progress(reported.0, reported.1);
            last = Some(reported);
        }
    }
    if let Some(progress) = progress.filter(|_| last != Some((done, done))) {
        progress(done, done);
    }
    Ok(body)
}
