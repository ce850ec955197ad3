//! Failing a connection on a protocol violation (RFC 6455 §7.1.7): a close frame whose status
//! code names the violation, then a bounded wait for the server to hang up.

use std::{future::poll_fn, pin::Pin, time::Duration};

use tokio::io::{AsyncRead, ReadBuf};
use tokio_tungstenite::tungstenite::{
    self,
    error::ProtocolError,
    protocol::{CloseFrame, frame::coding::CloseCode},
};

use crate::transport::WsStream;

/// The close code that tells the server why the client fails the connection after `err`
/// (RFC 6455 §7.4.1), or `None` when the socket cannot carry one any more.
pub(super) fn failure_code(err: &tungstenite::Error) -> Option<CloseCode> {
    match err {
        // A text message that is not UTF-8: 1007, "invalid frame payload data".
        tungstenite::Error::Utf8(_) => Some(CloseCode::Invalid),
        // A message or frame over the configured limit: 1009, "message too big".
        tungstenite::Error::Capacity(_) => Some(CloseCode::Size),
        // The peer (or a proxy) already dropped the connection: nobody to tell.
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        // Reserved bits, unknown opcodes, bad fragmentation or control frames…: 1002.
        tungstenite::Error::Protocol(_) => Some(CloseCode::Protocol),
        _ => None,
    }
}

/// Fails the connection after a protocol violation: sends a close frame with `code` (see
/// [`failure_code`]), then discards whatever arrives until the server ends the TCP connection,
/// so the close frame is not lost to a reset. Both steps together take at most `bound`.
/// Nothing the server sends meanwhile is processed, as §7.1.7 requires.
pub(super) async fn fail_connection(ws: &mut WsStream, code: CloseCode, bound: Duration) {
    tracing::debug!(code = u16::from(code), "failing the connection");
    let frame = CloseFrame { code, reason: "".into() };
    let hang_up = async {
        if ws.close(Some(frame)).await.is_err() {
            return;
        }
        let mut scratch = vec![0u8; 4096];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            let read = poll_fn(|cx| Pin::new(ws.get_mut()).poll_read(cx, &mut buf)).await;
            if read.is_err() || buf.filled().is_empty() {
                return;
            }
        }
    };
    if tokio::time::timeout(bound, hang_up).await.is_err() {
        tracing::debug!("the server did not end the failed connection in time");
    }
}

#[cfg(test)]
mod tests {
    use tungstenite::error::CapacityError;

    use super::*;

    #[test]
    fn each_violation_gets_its_close_code() {
        let utf8 = tungstenite::Error::Utf8("bad".into());
        assert_eq!(failure_code(&utf8), Some(CloseCode::Invalid));
        let size =
            tungstenite::Error::Capacity(CapacityError::MessageTooLong { size: 2, max_size: 1 });
        assert_eq!(failure_code(&size), Some(CloseCode::Size));
        let rsv = tungstenite::Error::Protocol(ProtocolError::NonZeroReservedBits);
        assert_eq!(failure_code(&rsv), Some(CloseCode::Protocol));
        let reset = tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake);
        assert_eq!(failure_code(&reset), None);
        assert_eq!(failure_code(&tungstenite::Error::ConnectionClosed), None);
    }
}
