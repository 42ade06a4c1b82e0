//! Coverage reports: lcov tracefiles (`LF:`/`LH:` records) and Cobertura XML (the root's
//! `line-rate`), to one line-coverage percentage.

/// Line coverage in percent, from an lcov or Cobertura file; `None` when it is neither.
pub fn coverage(bytes: &[u8]) -> Option<f64> {
    let text = String::from_utf8_lossy(bytes);
    if let Some(at) = text.find("<coverage") {
        let tag = &text[at..text[at..].find('>').map_or(text.len(), |e| at + e)];
        let rate = tag.split("line-rate=").nth(1)?;
        let quote = rate.chars().next()?;
        let value: f64 = rate[quote.len_utf8()..].split(quote).next()?.parse().ok()?;
        return (0.0..=1.0).contains(&value).then_some(value * 100.0);
    }
    let (mut found, mut hit) = (0u64, 0u64);
    let mut any = false;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("LF:") {
            found += n.trim().parse::<u64>().ok()?;
            any = true;
        } else if let Some(n) = line.strip_prefix("LH:") {
            hit += n.trim().parse::<u64>().ok()?;
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "line counts fit an f64 exactly")]
    let percent = if found == 0 {
        100.0
    } else {
        hit as f64 * 100.0 / found as f64
    };
    any.then_some(percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcov_sums_every_file() {
        let lcov = b"TN:\nSF:src/a.py\nDA:1,1\nLF:10\nLH:8\nend_of_record\nSF:src/b.py\nLF:10\nLH:2\nend_of_record\n";
        assert_eq!(coverage(lcov), Some(50.0));
    }

    #[test]
    fn cobertura_reads_the_root_line_rate() {
        let xml = br#"<?xml version="1.0" ?><coverage version="7.4" line-rate="0.8125" branch-rate="0"><packages/></coverage>"#;
        assert_eq!(coverage(xml), Some(81.25));
    }

    #[test]
    fn other_files_are_not_coverage() {
        assert_eq!(coverage(b"hello"), None);
        assert_eq!(coverage(b"<coverage line-rate=\"7\">"), None);
    }
}
