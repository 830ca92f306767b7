//! [`SessionLayer`]: the tower layer that resolves (and optionally requires) a session.

use super::rejection::Refusal;
use super::{SessionGuard, original_uri};
use axum::response::{IntoResponse, Response};
use http::Request;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// A tower [`Layer`] made by [`SessionGuard::layer`] (requires a session) or
/// [`SessionGuard::optional_layer`] (only resolves it). Works with `Router::layer` and
/// `Router::route_layer`.
#[derive(Debug, Clone)]
pub struct SessionLayer {
    guard: SessionGuard,
    required: bool,
}

impl SessionLayer {
    pub(crate) fn new(guard: SessionGuard, required: bool) -> Self {
        Self { guard, required }
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            guard: self.guard.clone(),
            required: self.required,
        }
    }
}

/// The service a [`SessionLayer`] wraps around `S`.
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    guard: SessionGuard,
    required: bool,
}

impl<S, B> Service<Request<B>> for SessionService<S>
where
    S: Service<Request<B>> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone that was driven to readiness is the one that is called.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let guard = self.guard.clone();
        let required = self.required;
        // whoami is awaited in this future, not spawned: dropping the request drops the call.
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(guard.clone());
            match guard.resolve_parts(&mut parts).await {
                Err(refusal) if required || matches!(refusal, Refusal::Unavailable) => {
                    let uri = original_uri(&parts);
                    return Ok(guard.reject(&refusal, uri).into_response());
                }
                _ => {}
            }
            let res = inner.call(Request::from_parts(parts, body)).await?;
            Ok(res.into_response())
        })
    }
}
