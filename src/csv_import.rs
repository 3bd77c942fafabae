//! CSV files from other systems (the insurance bureau's export, the personnel system's payroll):
//! the header checked first, and every bad row reported by its line number, nothing imported.

/// The rows that cannot be imported: (line number, reasons).
#[derive(Debug, thiserror::Error)]
#[error("{} bad rows; nothing was imported:\n{}", .0.len(), .0.iter().map(|(line, reason)| format!("  line {line}: {reason}")).collect::<Vec<_>>().join("\n"))]
pub struct BadRows(pub Vec<(u64, String)>);

/// A reader of `text` whose header is exactly `header`.
pub fn reader<'a>(text: &'a str, header: &[&str]) -> Result<csv::Reader<&'a [u8]>, BadRows> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let found: Vec<String> = reader
        .headers()
        .map_err(|e| BadRows(vec![(1, e.to_string())]))?
        .iter()
        .map(str::to_owned)
        .collect();
    if found != header {
        return Err(BadRows(vec![(
            1,
            format!("the header must be {}", header.join(",")),
        )]));
    }
    Ok(reader)
}
