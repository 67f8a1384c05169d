//! `taizhang healthcheck`: asks a running server's /healthz, for container health checks.
//!
//! The runtime image carries only the binary and CA certificates (no curl), so Docker's
//! HEALTHCHECK and the compose file call the binary itself. It reads the same `--listen` /
//! `TAIZHANG_LISTEN` as `serve`, so the address checked is the address served. Exit code 0 when the
//! server answers 200, 1 otherwise (Docker reads 1 as "unhealthy" and reserves 2).

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The path probed: always open, no database round trip (readiness is /readyz).
pub const HEALTH_PATH: &str = "/healthz";

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// Address the server listens on, as given to `serve`. An unspecified address (0.0.0.0 or
    /// [::]) is reached through loopback.
    #[arg(long, env = "TAIZHANG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Seconds to wait for the connection and the answer together.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

pub fn run(args: &HealthcheckArgs) -> ExitCode {
    let target = probe_address(args.listen);
    match probe(target, Duration::from_secs(args.timeout)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Docker keeps the last lines of a failed check (`docker inspect`): say why.
            eprintln!("unhealthy (不健康): http://{target}{HEALTH_PATH}: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where to connect for a listen address: a wildcard address is not connectable, its loopback is.
fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// One HTTP/1.1 GET of /healthz within `timeout`; Ok only for status 200.
fn probe(target: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&target, timeout)
        .context("cannot connect (无法连接): is `taizhang serve` running on this address?")?;
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .context("no answer in time (超时未响应)")
    };
    stream.set_write_timeout(Some(remaining()?))?;
    write!(
        stream,
        "GET {HEALTH_PATH} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: taizhang-healthcheck\r\n\
         Connection: close\r\n\r\n"
    )
    .context("cannot send the request (请求发送失败)")?;

    // Only the status line matters; read until it is complete, the peer closes, or time runs out.
    let mut received = Vec::with_capacity(256);
    let mut buffer = [0u8; 256];
    while !received.windows(2).any(|pair| pair == b"\r\n") && received.len() < 4096 {
        stream.set_read_timeout(Some(remaining()?))?;
        let read = stream
            .read(&mut buffer)
            .context("no answer in time (超时未响应)")?;
        if read == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&received);
    let status_line = text.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/1.") => Ok(()),
        (Some(version), Some(status)) if version.starts_with("HTTP/1.") => {
            bail!("status {status} (状态码 {status}, 应为 200)")
        }
        _ => bail!("not an HTTP answer (不是 HTTP 响应): {status_line:?}"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::thread;
    use std::time::{Duration, Instant};

    use clap::CommandFactory;

    use super::{HEALTH_PATH, probe, probe_address};

    /// A one-request server answering `reply`; yields the request line it received.
    fn answer_once(reply: &'static str) -> (SocketAddr, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            // Drain the headers so the client's write completes before we answer.
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            reader.get_mut().write_all(reply.as_bytes()).unwrap();
            request_line
        });
        (address, handle)
    }

    #[test]
    fn healthy_on_200_and_asks_for_healthz() {
        let (address, server) =
            answer_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        probe(address, Duration::from_secs(5)).unwrap();
        assert_eq!(
            server.join().unwrap().trim_end(),
            format!("GET {HEALTH_PATH} HTTP/1.1")
        );
    }

    #[test]
    fn unhealthy_on_another_status() {
        let (address, server) =
            answer_once("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        let error = probe(address, Duration::from_secs(5)).unwrap_err();
        assert!(error.to_string().contains("503"), "{error:#}");
        server.join().unwrap();
    }

    #[test]
    fn unhealthy_when_nothing_listens() {
        let address = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let error = probe(address, Duration::from_secs(2)).unwrap_err();
        assert!(error.to_string().contains("cannot connect"), "{error:#}");
    }

    #[test]
    fn gives_up_on_a_silent_server_within_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let started = Instant::now();
        // Accepted by the kernel's backlog, never answered.
        let error = probe(address, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(error.to_string().contains("no answer"), "{error:#}");
        drop(listener);
    }

    #[test]
    fn wildcard_listen_addresses_are_probed_on_loopback() {
        assert_eq!(
            probe_address("0.0.0.0:8080".parse().unwrap()),
            "127.0.0.1:8080".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            probe_address("[::]:9000".parse().unwrap()),
            "[::1]:9000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            probe_address("10.1.2.3:80".parse().unwrap()),
            "10.1.2.3:80".parse::<SocketAddr>().unwrap()
        );
    }

    /// The default checked is the default served (both read TAIZHANG_LISTEN).
    #[test]
    fn listen_default_and_env_match_serve() {
        #[derive(clap::Parser)]
        struct Serve {
            #[command(flatten)]
            args: api::ServeArgs,
        }
        #[derive(clap::Parser)]
        struct Health {
            #[command(flatten)]
            args: super::HealthcheckArgs,
        }
        let listen_of = |command: clap::Command| {
            let arg = command
                .get_arguments()
                .find(|arg| arg.get_id() == "listen")
                .cloned()
                .unwrap();
            (
                arg.get_env().map(|env| env.to_owned()),
                arg.get_default_values().to_vec(),
            )
        };
        assert_eq!(listen_of(Health::command()), listen_of(Serve::command()));
    }
}
