//! The service every request meets first: observed (id, metrics, log line) and, on the main
//! router, through the front door ([`crate::front`]) before routing. Written by hand rather than
//! as two `from_fn` middlewares, which box and clone more: it is on every request's path.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};

use crate::front;
use crate::observe::Observing;
use crate::state::SharedState;

#[derive(Clone)]
pub struct EdgeLayer {
    state: SharedState,
    front_door: bool,
}

impl EdgeLayer {
    /// Observation and the front door (the main router).
    pub fn new(state: SharedState) -> Self {
        Self {
            state,
            front_door: true,
        }
    }

    /// Observation only (the redirect-only router answers every host alike).
    pub fn observe_only(state: SharedState) -> Self {
        Self {
            state,
            front_door: false,
        }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            state: self.state.clone(),
            front_door: self.front_door,
        }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    state: SharedState,
    front_door: bool,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let observing = Observing::start(&request);
        let state = self.state.clone();
        if self.front_door
            && let Some(response) = front::decide(&state, &request)
        {
            return Box::pin(std::future::ready(Ok(
                observing.finish(&state, response, None)
            )));
        }
        // The service polled ready is the one to call; a fresh clone stays for the next request.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            let (answered, noted) = observing.scope(ready.call(request)).await;
            let response = match answered {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(observing.finish(&state, response, noted))
        })
    }
}
