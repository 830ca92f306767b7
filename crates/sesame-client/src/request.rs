//! The engine under every request builder: headers, interceptors, cancellation, same-origin
//! redirects, progress reporting, and the mapping of answers to [`Response`] or [`Error`].

use crate::client::{Client, RequestParts, ResponseParts, parse_header};
use crate::error::{Error, ErrorKind, classify, describe};
use crate::response::{RawResponse, RequestInfo, Response};
use futures_util::StreamExt;
use http::header::{HeaderMap, LOCATION};
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A progress callback: `(bytes done, bytes total)`.
pub(crate) type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;
/// Decides which statuses count as success.
pub(crate) type ValidateFn = Arc<dyn Fn(StatusCode) -> bool + Send + Sync>;

const MAX_REDIRECTS: usize = 10;

/// One request being built.
pub(crate) struct Call {
    client: Client,
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    extra: Map<String, Value>,
    validate_status: Option<ValidateFn>,
    on_send_progress: Option<ProgressFn>,
    on_receive_progress: Option<ProgressFn>,
    cancel: Option<CancellationToken>,
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
            extra: Map::new(),
            validate_status: None,
            on_send_progress: None,
            on_receive_progress: None,
            cancel: None,
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

    pub(crate) fn query(&mut self, name: &str, value: &str) {
        self.query.push((name.to_owned(), value.to_owned()));
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

    /// Sends the request and reads the whole body. Non-success statuses are not errors yet.
    pub(crate) async fn execute(self) -> Result<Received, Error> {
        let inner = self.client.inner.clone();
        let mut url = match reqwest::Url::parse(&self.url) {
            Ok(url) => url,
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Config(format!("invalid URL: {e}")),
                    RequestInfo::default(),
                    None,
                ));
            }
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
            let (res, redirects) =
                send_following(&inner.http, &parts, url, self.on_send_progress.as_deref()).await?;
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
    /// Decodes an accepted answer as `T`, or turns a refused one into its typed error. `whoami`
    /// makes every refused 401 a [`ErrorKind::SessionInactive`].
    pub(crate) fn decode<T: DeserializeOwned>(self, whoami: bool) -> Result<Response<T>, Error> {
        if !self.accepted {
            let kind = classify(self.raw.status, &self.raw.body, whoami);
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
/// meant for, and a cross-origin redirect is returned as it is.
async fn send_following(
    http: &reqwest::Client,
    parts: &RequestParts,
    mut url: reqwest::Url,
    on_send_progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
) -> Result<(reqwest::Response, Vec<String>), ErrorKind> {
    let mut method = parts.method.clone();
    let mut redirects = Vec::new();
    loop {
        let res = http
            .request(method.clone(), url.clone())
            .headers(parts.headers.clone())
            .send()
            .await
            .map_err(transport)?;
        if redirects.is_empty() {
            // Requests carry no body yet: the send is complete once the head is written.
            if let Some(progress) = on_send_progress {
                progress(0, 0);
            }
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
                if status == StatusCode::SEE_OTHER {
                    method = Method::GET;
                }
                redirects.push(next.to_string());
                url = next;
            }
            _ => return Ok((res, redirects)),
        }
    }
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
