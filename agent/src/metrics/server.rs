//! The HTTP/1.1 listener for `/metrics`, `/healthz` and `/readyz`.
//!
//! Each connection runs in its own task with a header read timeout, a bounded request size and
//! a bounded lifetime, and the number of open connections is capped (the oldest gives way to a
//! new one), so a slow or hostile client can neither block the agent, nor pile up state, nor
//! starve the health probes. Answers are built from [`Shared`]
//! with one short lock; nothing here waits on the event loop.

use std::{collections::VecDeque, convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use http_body_util::Full;
use hyper::{
    body::{Bytes, Incoming},
    header::{HeaderValue, ALLOW, CONTENT_TYPE},
    server::conn::http1,
    service::service_fn,
    Method, Request, Response, StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    net::{TcpListener, TcpStream},
    task::{AbortHandle, JoinHandle, JoinSet},
};

use super::{render::render_scrape, Shared, CONTENT_TYPE as METRICS_CONTENT_TYPE};

/// Limits of the listener. [`serve`] uses the defaults.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// A client must send a request's complete headers within this time (also the idle limit
    /// between requests on a kept-alive connection). Default 5 s.
    pub header_read_timeout: Duration,
    /// A connection is closed after this long, whatever it is doing. Default 60 s.
    pub connection_lifetime: Duration,
    /// Connections open at once; at the cap the oldest is closed for each new one. Default 64.
    pub max_connections: usize,
    /// Largest request head (request line and headers) in bytes; larger requests get 431.
    /// Default 8 KiB.
    pub max_header_bytes: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: Duration::from_secs(5),
            connection_lifetime: Duration::from_secs(60),
            max_connections: 64,
            max_header_bytes: 8 * 1024,
        }
    }
}

/// hyper's smallest allowed read buffer.
const MIN_BUF_BYTES: usize = 8 * 1024;

/// Binds `addr` and serves `/metrics`, `/healthz` and `/readyz` from `shared` with the default
/// [`ServeOptions`]. Returns the bound address (useful with port 0) and the task accepting
/// connections; aborting that task also closes every open connection. Must be called inside a
/// tokio runtime (the current-thread one is fine).
pub async fn serve(
    addr: SocketAddr,
    shared: Arc<Shared>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    serve_with(addr, shared, ServeOptions::default()).await
}

/// As [`serve`], with explicit limits.
pub async fn serve_with(
    addr: SocketAddr,
    shared: Arc<Shared>,
    options: ServeOptions,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!(%bound, "metrics and health endpoints listening");
    let task = tokio::spawn(accept_loop(listener, shared, Arc::new(options)));
    Ok((bound, task))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, options: Arc<ServeOptions>) {
    // Connection tasks live in the set, so dropping this future (abort) ends them too.
    let mut connections = JoinSet::new();
    // Open connections, oldest first. At the cap the OLDEST is closed to admit the new one:
    // refusing new ones instead would let anyone who holds the cap's worth of idle connections
    // (reachable from host-network pods) fail the kubelet's probes, which connect afresh each
    // time and finish in milliseconds, so they are never the oldest for long.
    let mut open: VecDeque<AbortHandle> = VecDeque::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    open.retain(|h| !h.is_finished());
                    while open.len() >= options.max_connections.max(1) {
                        if let Some(oldest) = open.pop_front() {
                            tracing::debug!(%peer, "metrics listener: at the connection cap, closing the oldest");
                            oldest.abort();
                        }
                    }
                    open.push_back(connections.spawn(connection(stream, shared.clone(), options.clone())));
                }
                Err(error) => {
                    // E.g. EMFILE: back off instead of spinning on the error.
                    tracing::warn!(%error, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, options: Arc<ServeOptions>) {
    let service = service_fn(move |request: Request<Incoming>| {
        let response = respond(request.method(), request.uri().path(), &shared);
        async move { Ok::<_, Infallible>(response) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(options.max_header_bytes.max(MIN_BUF_BYTES))
        .max_header_size(options.max_header_bytes)
        .max_headers(32);
    let served = builder.serve_connection(TokioIo::new(stream), service);
    match tokio::time::timeout(options.connection_lifetime, served).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "metrics connection ended with an error"),
        Err(_) => tracing::debug!("metrics connection reached its lifetime, closed"),
    }
}

/// Builds the answer to one request.
fn respond(method: &Method, path: &str, shared: &Shared) -> Response<Full<Bytes>> {
    let known = matches!(path, "/metrics" | "/healthz" | "/readyz");
    if !known {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match path {
        "/metrics" => {
            let body = render_scrape(shared.published(), shared.health());
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(METRICS_CONTENT_TYPE));
            response
        }
        "/healthz" => text(StatusCode::OK, "ok\n"),
        _ => match shared.health().not_ready_reason() {
            None => text(StatusCode::OK, "ready\n"),
            Some(reason) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}\n"),
            ),
        },
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
