//! Component stdout and stderr, line by line, prefixed with the component's name.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

#[derive(Clone)]
pub(crate) struct Prefixed {
    prefix: Arc<str>,
    stderr: bool,
}

impl Prefixed {
    pub(crate) fn new(component: &str, stderr: bool) -> Self {
        Prefixed { prefix: Arc::from(format!("[{component}] ")), stderr }
    }
}

impl IsTerminal for Prefixed {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Prefixed {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter { prefix: self.prefix.clone(), stderr: self.stderr, buf: Vec::new() })
    }
}

struct LineWriter {
    prefix: Arc<str>,
    stderr: bool,
    buf: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self, all: bool) {
        while let Some(pos) =
            self.buf.iter().position(|b| *b == b'\n').or((all && !self.buf.is_empty()).then(|| self.buf.len() - 1))
        {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches('\n');
            // One write per line, so lines of concurrent requests do not interleave.
            let out = format!("{}{}\n", self.prefix, text);
            let _ = if self.stderr {
                std::io::stderr().write_all(out.as_bytes())
            } else {
                std::io::stdout().write_all(out.as_bytes())
            };
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        self.buf.extend_from_slice(data);
        self.emit(false);
        Poll::Ready(Ok(data.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit(true);
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit(true);
    }
}
