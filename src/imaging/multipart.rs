//! `multipart/related` bodies (RFC 2387) as DICOMweb sends and answers them.

/// The most parts one request may carry.
pub const MAX_PARTS: usize = 2000;

/// The `boundary` and `type` parameters of a `multipart/related` content type.
pub fn parameters(content_type: &str) -> Option<(String, Option<String>)> {
    let mut pieces = content_type.split(';').map(str::trim);
    if !pieces.next()?.eq_ignore_ascii_case("multipart/related") {
        return None;
    }
    let (mut boundary, mut kind) = (None, None);
    for piece in pieces {
        let (name, value) = piece.split_once('=')?;
        let value = value.trim().trim_matches('"').to_owned();
        match name.trim().to_ascii_lowercase().as_str() {
            "boundary" => boundary = Some(value),
            "type" => kind = Some(value),
            _ => {}
        }
    }
    Some((boundary?, kind))
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("the body has no part delimited by its boundary")]
    NoParts,
    #[error("a part has no blank line after its headers")]
    NoHeaderEnd,
    #[error("a part is not application/dicom")]
    NotDicom,
    #[error("more than {MAX_PARTS} parts")]
    TooManyParts,
}

/// The bodies of the parts, each checked to be `application/dicom` (a part without a
/// Content-Type takes the multipart's `type`).
pub fn dicom_parts(
    body: &[u8],
    boundary: &str,
    kind: Option<&str>,
) -> Result<Vec<Vec<u8>>, Malformed> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let positions: Vec<usize> = body
        .windows(delimiter.len())
        .enumerate()
        .filter(|(at, window)| *window == delimiter && (*at == 0 || body[..*at].ends_with(b"\n")))
        .map(|(at, _)| at)
        .collect();
    if positions.len() < 2 {
        return Err(Malformed::NoParts);
    }
    if positions.len() > MAX_PARTS + 1 {
        return Err(Malformed::TooManyParts);
    }
    let mut parts = Vec::with_capacity(positions.len() - 1);
    for pair in positions.windows(2) {
        let mut part = &body[pair[0] + delimiter.len()..pair[1]];
        part = part
            .strip_prefix(b"\r\n")
            .or(part.strip_prefix(b"\n"))
            .unwrap_or(part);
        // The CRLF before the next delimiter belongs to the delimiter.
        part = part
            .strip_suffix(b"\r\n")
            .or(part.strip_suffix(b"\n"))
            .unwrap_or(part);
        let (headers, content) = split_headers(part).ok_or(Malformed::NoHeaderEnd)?;
        let content_type = headers
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.trim().to_owned())
            .or(kind.map(str::to_owned))
            .unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("application/dicom") {
            return Err(Malformed::NotDicom);
        }
        parts.push(content.to_vec());
    }
    Ok(parts)
}

fn split_headers(part: &[u8]) -> Option<(String, &[u8])> {
    if let Some(rest) = part.strip_prefix(b"\r\n") {
        return Some((String::new(), rest)); // no headers at all
    }
    let end = part.windows(4).position(|w| w == b"\r\n\r\n")?;
    let headers = String::from_utf8_lossy(&part[..end]).into_owned();
    Some((headers, &part[end + 4..]))
}

/// A boundary no part's bytes are likely to hold.
pub fn new_boundary() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    format!("yijia-{}", hex::encode(bytes))
}

/// One part of a `multipart/related` body of parts of `media_type`, the closing boundary
/// after the `last`.
pub fn frame(boundary: &str, media_type: &str, part: &[u8], last: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(part.len() + 128);
    out.extend(format!("--{boundary}\r\nContent-Type: {media_type}\r\n\r\n").as_bytes());
    out.extend(part);
    out.extend(b"\r\n");
    if last {
        out.extend(format!("--{boundary}--\r\n").as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_split_whatever_the_preamble() {
        let body = b"\r\n--b1\r\nContent-Type: application/dicom\r\n\r\nAB\r\n--b1\r\nContent-Type: application/dicom\r\n\r\n\r\nC\r\n--b1--";
        assert_eq!(
            dicom_parts(body, "b1", None).unwrap(),
            vec![b"AB".to_vec(), b"\r\nC".to_vec()]
        );
        let untyped = b"--b1\r\n\r\nXY\r\n--b1--\r\n";
        assert_eq!(
            dicom_parts(untyped, "b1", Some("application/dicom")).unwrap(),
            vec![b"XY".to_vec()]
        );
        assert_eq!(dicom_parts(untyped, "b1", None), Err(Malformed::NotDicom));
        assert_eq!(dicom_parts(b"nothing", "b1", None), Err(Malformed::NoParts));
        assert_eq!(
            parameters("multipart/related; type=\"application/dicom\"; boundary=\"x y\""),
            Some(("x y".into(), Some("application/dicom".into())))
        );
        assert_eq!(parameters("multipart/form-data; boundary=x"), None);
    }
}
