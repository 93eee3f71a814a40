//! The service every request meets first: observed (id, metrics, log line) and, on the main
//! application, through the front door ([`crate::front`]); then the discovery endpoints are
//! answered directly ([`crate::discovery_route::DiscoveryRoute`]) and everything else goes to the router.
//! Written by hand: it is on every request's path, and middleware and general routing cost more
//! than many answers do.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use tower::{Service, ServiceExt};

use crate::discovery_route::DiscoveryRoute;
use crate::front;
use crate::observe::Observing;
use crate::state::SharedState;

#[derive(Clone)]
pub struct Edge {
    state: SharedState,
    /// Everything that is not a discovery endpoint.
    router: Router,
    /// Whether the front door and the discovery endpoints apply (not on a redirect-only host).
    discovery: bool,
}

impl Edge {
    /// The main application: front door, discovery endpoints, then `router`.
    pub fn new(state: SharedState, router: Router) -> Self {
        Self {
            state,
            router,
            discovery: true,
        }
    }

    /// Observation around `router` alone (the redirect-only host answers every name alike).
    pub fn router_only(state: SharedState, router: Router) -> Self {
        Self {
            state,
            router,
            discovery: false,
        }
    }
}

impl Service<Request> for Edge {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready; it is driven with `oneshot` below.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let observing = Observing::start(&request);
        let state = self.state.clone();
        if let Some(refused) = crate::host_header::settle(&mut request) {
            return Box::pin(std::future::ready(Ok(
                observing.finish(&state, refused, None, None)
            )));
        }
        if self.discovery
            && let Some(response) = front::decide(&state, &request)
        {
            return Box::pin(std::future::ready(Ok(
                observing.finish(&state, response, None, None)
            )));
        }
        let route = self
            .discovery
            .then(|| DiscoveryRoute::for_path(request.uri().path()))
            .flatten();
        let router = self.router.clone();
        Box::pin(async move {
            // The answering futures are large (the discovery one about 8 KB): each is built once
            // in its own allocation, so the scope and span around it move a pointer, not it.
            let answering = async {
                match route {
                    Some(route) => Box::pin(route.answer(state.clone(), request)).await,
                    None => match Box::pin(router.oneshot(request)).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    },
                }
            };
            let (response, noted, address) = observing.scope(answering).await;
            Ok(observing.finish(&state, response, noted, address))
        })
    }
}
