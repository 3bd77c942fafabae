//! MLLP, the minimal lower layer protocol HL7 v2 travels on over TCP: each message is framed as
//! `0x0B message 0x1C 0x0D`, and each is answered, in order, by one framed reply.

use std::future::Future;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const START: u8 = 0x0b;
const END: u8 = 0x1c;
const CARRIAGE_RETURN: u8 = 0x0d;
/// A frame larger than this closes the connection.
const MAX_FRAME: usize = super::MAX_MESSAGE_BYTES + 3;

/// Frames a message for sending.
pub fn frame(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(&[END, CARRIAGE_RETURN]);
    out
}

/// Accepts connections for as long as the server runs; `handle` turns each message into its
/// reply.
pub async fn serve<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(Vec<u8>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = String> + Send,
{
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "MLLP accept failed");
                continue;
            }
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            if let Err(error) = connection(stream, handle).await {
                tracing::info!(%peer, %error, "MLLP connection closed");
            }
        });
    }
}

async fn connection<F, Fut>(stream: TcpStream, handle: F) -> std::io::Result<()>
where
    F: Fn(Vec<u8>) -> Fut,
    Fut: Future<Output = String>,
{
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let n = (&mut read)
            .take(MAX_FRAME as u64)
            .read_until(END, &mut buffer)
            .await?;
        if n == 0 {
            return Ok(());
        }
        if buffer.last() != Some(&END) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "frame too large or cut off",
            ));
        }
        let mut after = [0u8; 1];
        read.read_exact(&mut after).await?;
        let Some(start) = buffer.iter().position(|&b| b == START) else {
            continue; // noise between frames
        };
        let body = &buffer[start + 1..buffer.len() - 1];
        let reply = handle(body.to_vec()).await;
        write.write_all(&frame(&reply)).await?;
        write.flush().await?;
    }
}
