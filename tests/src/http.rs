//! A small HTTP/1.1 server on 127.0.0.1 for the delivery tests: records every request (method,
//! target, headers, body) and answers with a given function; optionally over TLS.
#![allow(dead_code)]

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::Duration,
};

use serde_json::Value;

/// The id of a finding envelope (`finding.sourceProperties.Finding_Id`).
pub fn finding_id(v: &Value) -> String {
    v["finding"]["sourceProperties"]["Finding_Id"].as_str().unwrap().to_string()
}

/// The key a finding is delivered under: its id, `{id}-{revision}` for an update.
pub fn delivery_key(v: &Value) -> String {
    let id = finding_id(v);
    match v["finding"]["sourceProperties"]["Finding_Revision"].as_u64() {
        Some(r) if r > 1 => format!("{id}-{r}"),
        _ => id,
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|s| s.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("body is not JSON: {e}: {}", self.body))
    }
}

pub type Responder = Arc<dyn Fn(&Req) -> (u16, String) + Send + Sync>;

/// A small HTTP/1.1 server on 127.0.0.1: records every request, answers with `respond`, one
/// connection at a time, `Connection: close`.
pub struct Server {
    reqs: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn read_request<S: Read + Write>(s: S) -> Option<(Req, S)> {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    let req = Req { method, target, headers, body: String::from_utf8(body).ok()? };
    Some((req, r.into_inner()))
}

fn serve<S: Read + Write>(s: S, respond: &Responder, reqs: &Mutex<Vec<Req>>) -> Option<S> {
    let (req, mut s) = read_request(s)?;
    let (status, body) = respond(&req);
    reqs.lock().unwrap().push(req);
    let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let _ = s.flush();
    Some(s)
}

impl Server {
    pub fn start(port: u16, respond: Responder) -> Server {
        Server::start_with(port, respond, None)
    }

    /// `tls`: serve HTTPS with this configuration.
    pub fn start_with(port: u16, respond: Responder, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        l.set_nonblocking(true).unwrap();
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs2, stop2) = (reqs.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let s: TcpStream = match l.accept() {
                    Ok((s, _)) => s,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    }
                };
                if s.set_nonblocking(false).is_err() || s.set_read_timeout(Some(Duration::from_secs(5))).is_err() {
                    continue;
                }
                match &tls {
                    None => {
                        serve(s, &respond, &reqs2);
                    }
                    Some(cfg) => {
                        let Ok(conn) = rustls::ServerConnection::new(cfg.clone()) else { continue };
                        if let Some(mut s) = serve(rustls::StreamOwned::new(conn, s), &respond, &reqs2) {
                            s.conn.send_close_notify();
                            let _ = s.flush();
                        }
                    }
                }
            }
        });
        Server { reqs, stop, thread: Some(thread) }
    }

    /// A receiver that takes `delay` to answer each request with 200, serving every connection
    /// on its own thread; also returns the most requests it ever held at once.
    pub fn slow(port: u16, delay: Duration) -> (Server, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::AtomicUsize;
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        l.set_nonblocking(true).unwrap();
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (open, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (reqs2, stop2, peak2) = (reqs.clone(), stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let Ok((s, _)) = l.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                let (reqs, open, peak) = (reqs2.clone(), open.clone(), peak2.clone());
                std::thread::spawn(move || {
                    if s.set_nonblocking(false).is_err() || s.set_read_timeout(Some(Duration::from_secs(5))).is_err() {
                        return;
                    }
                    let respond: Responder = Arc::new(move |_| {
                        let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(delay);
                        open.fetch_sub(1, Ordering::SeqCst);
                        (200, "{}".into())
                    });
                    serve(s, &respond, &reqs);
                });
            }
        });
        (Server { reqs, stop, thread: Some(thread) }, peak)
    }

    pub fn ok(port: u16) -> Server {
        Server::start(port, Arc::new(|_| (200, "{}".into())))
    }

    pub fn requests(&self) -> Vec<Req> {
        self.reqs.lock().unwrap().clone()
    }

    /// Ids of the findings received, from the bodies (objects or arrays).
    pub fn ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in self.requests() {
            match r.json() {
                Value::Array(a) => out.extend(a.iter().map(finding_id)),
                v => out.push(finding_id(&v)),
            }
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

