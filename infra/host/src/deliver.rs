//! `ryd-host deliver`: the outbox's email worker (infra/README.md, "Email").
//!
//! It claims due messages under a lease ([`ryd_store::outbox::claim`]), sends each over
//! SMTP, and marks it sent, or failed with its reason: due again after a backoff that
//! doubles, given up after `max_attempts` or at once on a permanent refusal (SMTP 5xx).
//! Any number of workers may drain one database: a claim is one statement, so no two
//! workers hold one message. A worker killed between the relay's "250 OK" and its mark
//! leaves that one message to be sent again when its lease ends: delivery is at least
//! once, and the message keeps its `Message-ID` for receivers that deduplicate.

use crate::runtime_config::{Database, RuntimeConfig};
use anyhow::{anyhow, bail, Context, Result};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport};
use ryd_store::native::NativeSql;
use ryd_store::outbox::{self, NewMessage};
use ryd_store::{Rows, Sql, SqlError, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The channel this worker drains.
pub const CHANNEL: &str = "email";

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// This worker's name in the leases it takes (unique per process).
    pub owner: String,
    /// Messages claimed at once.
    pub batch: i64,
    /// How long a claim holds its messages: longer than sending a batch can take.
    pub lease: Duration,
    /// The first retry's delay; each later one doubles, up to an hour.
    pub backoff: Duration,
    /// Attempts before a message is given up.
    pub max_attempts: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            owner: format!("deliver-{}-{}", std::process::id(), millis_now()),
            batch: 20,
            lease: Duration::from_secs(300),
            backoff: Duration::from_millis(outbox::BACKOFF_MS as u64),
            max_attempts: outbox::MAX_ATTEMPTS,
        }
    }
}

pub use ryd_store::outbox::Failure;

/// Something that sends one message.
pub trait Mailer {
    /// Sends `message` (its id as its Message-ID).
    fn send(&self, message: &NewMessage) -> Result<(), Failure>;
}

/// An SMTP relay, by URL (lettre's syntax): `smtp://user:pass@host:587?tls=required`
/// (STARTTLS), `smtps://user:pass@host:465` (TLS), `smtp://host:port` (unencrypted: a relay
/// on the same machine, or a test server).
pub struct Smtp {
    transport: SmtpTransport,
    from: Mailbox,
    domain: String,
}

impl Smtp {
    /// A relay at `url`, sending as `from` (`IATI Registry <no-reply@example.org>`).
    pub fn new(url: &str, from: &str) -> Result<Self> {
        let transport = SmtpTransport::from_url(url)
            .with_context(|| "the SMTP URL (smtp://[user:pass@]host[:port][?tls=required], or smtps://…)")?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = from.parse().with_context(|| format!("the sender {from:?}"))?;
        let domain = from.email.domain().to_string();
        Ok(Smtp { transport, from, domain })
    }

    /// The message as sent: text and HTML alternatives, headers from values that are
    /// one line each (ryd-notify makes them so; lettre encodes what is not ASCII).
    pub fn build(&self, m: &NewMessage) -> Result<Message, Failure> {
        let permanent = |reason: String| Failure { permanent: true, reason };
        let to_address = m.recipient.parse().map_err(|e| permanent(format!("recipient {:?}: {e}", m.recipient)))?;
        let to_name = ryd_notify::one_line(&m.recipient_name);
        let to = Mailbox::new((!to_name.is_empty()).then_some(to_name), to_address);
        Message::builder()
            .message_id(Some(format!("<{}@{}>", m.id, self.domain)))
            .from(self.from.clone())
            .to(to)
            .subject(ryd_notify::one_line(&m.subject))
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(m.body_text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(m.body_html.clone())),
            )
            .map_err(|e| permanent(format!("building the message: {e}")))
    }
}

impl Mailer for Smtp {
    fn send(&self, m: &NewMessage) -> Result<(), Failure> {
        let message = self.build(m)?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| Failure { permanent: e.is_permanent(), reason: e.to_string() })
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Messages sent.
    pub sent: u64,
    /// Messages that failed and will be tried again.
    pub retrying: u64,
    /// Messages given up.
    pub given_up: u64,
}

fn millis_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Sends every message due now, batch after batch, until none is due.
pub fn drain(sql: &dyn Sql, mailer: &dyn Mailer, o: &Options) -> Result<Pass> {
    let d = outbox::Delivery {
        channel: CHANNEL,
        owner: &o.owner,
        batch: o.batch,
        lease_ms: o.lease.as_millis() as i64,
        backoff_ms: o.backoff.as_millis() as i64,
        max_attempts: o.max_attempts,
    };
    let mut pass = Pass::default();
    loop {
        let b = outbox::deliver_batch(sql, &d, &millis_now, &mut |c| mailer.send(&c.message))
            .context("delivering a batch")?;
        for f in &b.failures {
            let gave_up = if f.given_up { " (given up)" } else { "" };
            eprintln!(
                "deliver: {} ({}) to {}: attempt {} failed: {}{gave_up}",
                f.id, f.event, f.recipient, f.attempts, f.reason
            );
        }
        if b.late > 0 {
            eprintln!("deliver: {} sent after their lease ended (the lease is too short)", b.late);
        }
        if b.claimed == 0 {
            return Ok(pass);
        }
        pass.sent += b.sent;
        pass.retrying += b.retrying;
        pass.given_up += b.given_up;
    }
}

/// Drains, then every `poll` drains again, until `stop` says so (checked between passes).
pub fn run(sql: &dyn Sql, mailer: &dyn Mailer, o: &Options, poll: Duration, stop: &dyn Fn() -> bool) -> Result<()> {
    loop {
        let pass = drain(sql, mailer, o)?;
        if pass != Pass::default() {
            eprintln!("deliver: sent {}, retrying {}, given up {}", pass.sent, pass.retrying, pass.given_up);
        }
        if stop() {
            return Ok(());
        }
        std::thread::sleep(poll);
    }
}

/// The application's `default` database as the runtime configuration places it: a local
/// file (migrated if new, as the first request would) or a libSQL server.
pub fn open_default(config: &RuntimeConfig) -> Result<Box<dyn Sql>> {
    match config.databases.get("default") {
        Some(Database::Local(path)) => {
            // A worker pointed at the wrong place must say so, not drain a new empty file.
            if !path.is_file() {
                bail!(
                    "no database at {}: run the application first, or give its --state-dir or --runtime-config-file",
                    path.display()
                );
            }
            let db = NativeSql::open(path).map_err(|e| anyhow!("{}: {}", path.display(), e.message))?;
            db.execute("PRAGMA busy_timeout = 5000", &[]).map_err(|e| anyhow!(e.message))?;
            ryd_store::migrate(&db).map_err(|e| anyhow!("{}: {}", path.display(), e.message))?;
            Ok(Box::new(db))
        }
        Some(Database::LibSql { url, token }) => Ok(Box::new(RemoteSql::connect(url, token)?)),
        None => bail!("the runtime configuration has no default database"),
    }
}

/// [`Sql`] on a libSQL server, each statement one HTTP request, for a worker thread.
pub struct RemoteSql {
    runtime: tokio::runtime::Runtime,
    conn: libsql::Connection,
}

impl RemoteSql {
    /// A client of the server at `url`.
    pub fn connect(url: &str, token: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let conn = runtime.block_on(async {
            let db = libsql::Builder::new_remote(url.to_string(), token.to_string()).build().await?;
            db.connect()
        })?;
        Ok(RemoteSql { runtime, conn })
    }
}

impl Sql for RemoteSql {
    fn execute(&self, statement: &str, params: &[Value]) -> Result<Rows, SqlError> {
        let params = params.iter().map(|v| match v {
            Value::Null => libsql::Value::Null,
            Value::Integer(n) => libsql::Value::Integer(*n),
            Value::Real(n) => libsql::Value::Real(*n),
            Value::Text(s) => libsql::Value::Text(s.clone()),
            Value::Blob(b) => libsql::Value::Blob(b.clone()),
        });
        let (columns, rows) = self
            .runtime
            .block_on(crate::spin::query_libsql(&self.conn, statement, params))
            .map_err(|e| SqlError::from_message(e.to_string()))?;
        let rows = rows
            .into_iter()
            .map(|values| {
                values
                    .into_iter()
                    .map(|v| match v {
                        libsql::Value::Null => Value::Null,
                        libsql::Value::Integer(n) => Value::Integer(n),
                        libsql::Value::Real(n) => Value::Real(n),
                        libsql::Value::Text(s) => Value::Text(s),
                        libsql::Value::Blob(b) => Value::Blob(b),
                    })
                    .collect()
            })
            .collect();
        Ok(Rows { columns, rows })
    }

    fn refuses_settings(&self) -> bool {
        true
    }
}

/// `"200ms"`, `"5s"`, `"2m"`, `"1h"` (the CLI's durations).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("{s:?}: a number then ms, s, m or h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("{s:?}: a number then ms, s, m or h")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn a_name_cannot_add_a_header() {
        let smtp = Smtp::new("smtp://127.0.0.1:1", "IATI Registry <no-reply@example.org>").unwrap();
        let m = NewMessage {
            id: "m1".into(),
            recipient: "ada@example.org".into(),
            recipient_name: "Ada\r\nBcc: evil@example.org".into(),
            subject: "Hi\r\nBcc: evil@example.org".into(),
            body_text: "text".into(),
            body_html: "<p>html</p>".into(),
            ..Default::default()
        };
        let raw = String::from_utf8(smtp.build(&m).unwrap().formatted()).unwrap();
        let headers = raw.split("\r\n\r\n").next().unwrap();
        assert!(!headers.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{headers}");
        assert!(headers.contains("Message-ID: <m1@example.org>"), "{headers}");
        let bad = NewMessage { recipient: "a@example.org\r\nBcc: evil@example.org".into(), ..m };
        assert!(smtp.build(&bad).is_err_and(|f| f.permanent));
    }
}
