//! A real SMTP server for the mail stories, run inside the test: it listens on a TCP
//! port and speaks the protocol (RFC 5321: greeting, EHLO/HELO, MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT), so the server's real SMTP client (lettre) is what
//! is tested, not a stand-in for it. It can refuse mail on demand (a temporary `451`
//! to MAIL FROM) or stall (accept the connection, never greet) to test retries and
//! crashes mid-delivery.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Answers `451` to every MAIL FROM.
    Refuse,
    /// Accepts connections and says nothing.
    Stall,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The one link of the mail's text part, decoded (7bit or quoted-printable).
    pub fn link(&self) -> String {
        let text = decode_qp(&self.data);
        let start = text.find("http://").expect("a link in the mail");
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .map_or(text.len(), |e| start + e);
        text[start..end].to_string()
    }

    /// The token of the link (after `token=`).
    pub fn token(&self) -> String {
        let link = self.link();
        link.split_once("token=")
            .expect("token in link")
            .1
            .to_string()
    }

    /// How many distinct links the mail holds (text and HTML parts together).
    pub fn distinct_links(&self) -> usize {
        let text = decode_qp(&self.data);
        let mut links: Vec<&str> = text
            .match_indices("http")
            .map(|(i, _)| {
                let rest = &text[i..];
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .filter(|l| l.starts_with("http://") || l.starts_with("https://"))
            .collect();
        links.sort_unstable();
        links.dedup();
        links.len()
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone)]
pub struct SmtpServer {
    pub port: u16,
    mode: Arc<Mutex<Mode>>,
    inbox: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<usize>>,
}

impl SmtpServer {
    pub async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Self {
            port,
            mode: Arc::new(Mutex::new(mode)),
            inbox: Arc::default(),
            refused: Arc::default(),
        };
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(sock).await;
                });
            }
        });
        server
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// The mails received, without the verification mails every sign-up queues.
    pub fn inbox(&self) -> Vec<Received> {
        self.all_mail()
            .into_iter()
            .filter(|m| !decode_qp(&m.data).contains("/verify-email?token="))
            .collect()
    }

    /// Every mail received.
    pub fn all_mail(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    pub fn refused(&self) -> usize {
        *self.refused.lock().unwrap()
    }

    /// Waits (up to 10 s) until at least `n` mails arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let inbox = self.inbox();
            if inbox.len() >= n {
                return inbox;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} mail(s), got {}", self.inbox().len());
    }

    /// Waits (up to 10 s) until at least `n` attempts were refused.
    pub async fn wait_refused(&self, n: usize) {
        for _ in 0..200 {
            if self.refused() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} refused attempt(s), got {}", self.refused());
    }

    async fn session(&self, sock: tokio::net::TcpStream) -> std::io::Result<()> {
        if *self.mode.lock().unwrap() == Mode::Stall {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 orgbase-test ESMTP\r\n").await?;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                w.write_all(b"250-orgbase-test\r\n250 8BITMIME\r\n").await?;
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                w.write_all(b"250 ok\r\n").await?;
            } else if upper.starts_with("RSET") {
                from.clear();
                to.clear();
                w.write_all(b"250 ok\r\n").await?;
            } else if upper.starts_with("MAIL FROM:") {
                if *self.mode.lock().unwrap() == Mode::Refuse {
                    *self.refused.lock().unwrap() += 1;
                    w.write_all(b"451 4.3.0 try again later\r\n").await?;
                } else {
                    from = cmd[10..].to_string();
                    w.write_all(b"250 ok\r\n").await?;
                }
            } else if upper.starts_with("RCPT TO:") {
                to.push(
                    cmd[8..]
                        .trim_matches(|c| c == '<' || c == '>' || c == ' ')
                        .to_string(),
                );
                w.write_all(b"250 ok\r\n").await?;
            } else if upper == "DATA" {
                w.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.inbox.lock().unwrap().push(Received {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                w.write_all(b"250 queued\r\n").await?;
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                w.write_all(b"502 not implemented\r\n").await?;
            }
        }
    }
}
