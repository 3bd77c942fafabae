//! MLLP, the minimal lower layer protocol HL7 v2 travels on over TCP: each message is framed as
//! `0x0B message 0x1C 0x0D`, and each is answered, in order, by one framed reply. An allow-list
//! names, per sending facility (MSH-4), the networks its messages may come from; a peer on no
//! listed network is not even read.

use std::future::Future;
use std::net::IpAddr;

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

/// A network in CIDR notation (`10.2.0.0/16`, `192.168.1.7`, `fd00::/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Option<Network> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address.parse::<IpAddr>().ok()?, prefix.parse().ok()?),
            None => {
                let address = text.parse::<IpAddr>().ok()?;
                (address, if address.is_ipv4() { 32 } else { 128 })
            }
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= bits).then_some(Network { address, prefix })
    }

    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(peer),
            v4 => v4,
        };
        let bits = |ip: IpAddr| -> u128 {
            match ip {
                IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
                IpAddr::V6(v6) => u128::from(v6),
            }
        };
        if self.address.is_ipv4() != peer.is_ipv4() {
            return false;
        }
        // An IPv4 address sits in the top 32 bits, so the prefix counts from the top for both.
        let prefix = u32::from(self.prefix);
        let mask = if prefix == 0 {
            0
        } else {
            u128::MAX << (128 - prefix)
        };
        (bits(self.address) & mask) == (bits(peer) & mask)
    }
}

/// Which networks each sending facility's messages may come from; empty: any peer, any
/// facility (a laboratory's own network, behind its firewall).
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    rules: Vec<(String, Network)>,
}

impl AllowList {
    /// From `CODE=CIDR` rules (`C-LAB=10.2.0.0/16`).
    pub fn parse(rules: &[String]) -> Result<AllowList, String> {
        let rules = rules
            .iter()
            .map(|rule| {
                let (code, network) = rule
                    .split_once('=')
                    .ok_or_else(|| format!("{rule:?} is not CODE=CIDR"))?;
                let network = Network::parse(network.trim())
                    .ok_or_else(|| format!("{network:?} is not an address or network"))?;
                Ok((code.trim().to_owned(), network))
            })
            .collect::<Result<_, String>>()?;
        Ok(AllowList { rules })
    }

    /// Whether a peer may connect at all.
    pub fn admits_peer(&self, peer: IpAddr) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|(_, n)| n.contains(peer))
    }

    /// Whether a sending facility's message may come from this peer.
    pub fn admits(&self, facility: &str, peer: IpAddr) -> bool {
        self.rules.is_empty()
            || self
                .rules
                .iter()
                .any(|(code, n)| code == facility && n.contains(peer))
    }
}

/// Accepts connections for as long as the server runs, from the peers `allow` admits;
/// `handle` turns each message (and the peer it came from) into its reply.
pub async fn serve<F, Fut>(listener: TcpListener, allow: std::sync::Arc<AllowList>, handle: F)
where
    F: Fn(Vec<u8>, IpAddr) -> Fut + Clone + Send + Sync + 'static,
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
        if !allow.admits_peer(peer.ip()) {
            tracing::warn!(%peer, "MLLP connection refused: the peer is on no allowed network");
            continue;
        }
        let handle = handle.clone();
        tokio::spawn(async move {
            if let Err(error) = connection(stream, peer.ip(), handle).await {
                tracing::info!(%peer, %error, "MLLP connection closed");
            }
        });
    }
}

async fn connection<F, Fut>(stream: TcpStream, peer: IpAddr, handle: F) -> std::io::Result<()>
where
    F: Fn(Vec<u8>, IpAddr) -> Fut,
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
        let reply = handle(body.to_vec(), peer).await;
        write.write_all(&frame(&reply)).await?;
        write.flush().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_rules_admit_what_they_name() {
        let lab = Network::parse("10.2.0.0/16").unwrap();
        assert!(lab.contains("10.2.9.1".parse().unwrap()));
        assert!(!lab.contains("10.3.0.1".parse().unwrap()));
        assert!(lab.contains("::ffff:10.2.0.5".parse().unwrap()));
        assert!(Network::parse("10.2.0.0/33").is_none());
        let allow = AllowList::parse(&["C-LAB=127.0.0.1".into()]).unwrap();
        assert!(allow.admits("C-LAB", "127.0.0.1".parse().unwrap()));
        assert!(!allow.admits("C-IMG", "127.0.0.1".parse().unwrap()));
        assert!(!allow.admits_peer("10.0.0.1".parse().unwrap()));
        assert!(AllowList::default().admits("ANY", "10.0.0.1".parse().unwrap()));
        assert!(AllowList::parse(&["nonsense".into()]).is_err());
    }
}
