//! A small element tree for the vendor XML formats (GE MUSE and CardioSoft, Philips
//! SierraECG): names without their namespace prefix, attributes, text, children. The input is
//! bounded by the upload limit; nesting is bounded here.

use base64::Engine;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

#[derive(Debug, Default)]
pub(crate) struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

const MAX_DEPTH: usize = 64;

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or_default().to_owned()
}

fn start(e: &BytesStart) -> Element {
    Element {
        name: local(e.name().as_ref()),
        attributes: e
            .attributes()
            .flatten()
            .map(|a| {
                let value = a
                    .normalized_value(quick_xml::XmlVersion::default())
                    .map(|v| v.into_owned())
                    .unwrap_or_default();
                (local(a.key.as_ref()), value)
            })
            .collect(),
        ..Element::default()
    }
}

/// Parses a whole document (UTF-8) into its root element.
pub(crate) fn parse(bytes: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(bytes);
    let mut buffer = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("XML nested deeper than any ECG format".into());
                }
                stack.push(start(&e));
            }
            Event::Empty(e) => {
                let element = start(&e);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(data.as_ref());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = stack.last_mut() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match reference.as_ref() {
                            "amp" => Some('&'),
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "quot" => Some('"'),
                            "apos" => Some('\''),
                            _ => None,
                        },
                    };
                    current.text.extend(resolved);
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("an end tag without its start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if !stack.is_empty() {
        return Err("the XML ends inside an element (truncated)".into());
    }
    root.ok_or_else(|| "no root element".into())
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |c| c.name.eq_ignore_ascii_case(name))
    }

    /// The first element of this name at any depth (depth first).
    pub fn find(&self, name: &str) -> Option<&Element> {
        let mut pending: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(element) = pending.pop() {
            if element.name.eq_ignore_ascii_case(name) {
                return Some(element);
            }
            pending.extend(element.children.iter().rev());
        }
        None
    }

    /// Every element of this name at any depth, in document order.
    pub fn find_all<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut found = Vec::new();
        let mut pending: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(element) = pending.pop() {
            if element.name.eq_ignore_ascii_case(name) {
                found.push(element);
            }
            pending.extend(element.children.iter().rev());
        }
        found
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn trimmed(&self) -> Option<&str> {
        Some(self.text.trim()).filter(|t| !t.is_empty())
    }

    /// The trimmed text of a child.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(Element::trimmed)
    }

    /// A child's text as a number.
    pub fn number_of(&self, name: &str) -> Option<f64> {
        self.text_of(name)
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|v| v.is_finite())
    }
}

/// Base64 text (line breaks and spaces allowed), refusing what decodes to more than `limit`
/// bytes before decoding it.
pub(crate) fn base64(text: &str, limit: usize) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() / 4 * 3 > limit {
        return Err("waveform data larger than a recording may be".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("waveform data are not base64: {e}"))
}
