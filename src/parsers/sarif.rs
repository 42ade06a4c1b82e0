//! SARIF 2.1.0 produced by a tool: `runs[].results[]` with rule, level, message and location.

use serde_json::Value;

use super::{Diagnostic, DiagnosticKind, ParseError, relative_path};

/// Parses the results of every run of a SARIF log.
pub fn parse(output: &[u8], root: &str) -> Result<Vec<Diagnostic>, ParseError> {
    let log: Value = serde_json::from_slice(output).map_err(|e| ParseError::new("sarif", e))?;
    let runs = log
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError::new("sarif", "no `runs` array"))?;
    let mut out = Vec::new();
    for run in runs {
        for r in run
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let loc = r.pointer("/locations/0/physicalLocation");
            let uri = loc
                .and_then(|l| l.pointer("/artifactLocation/uri"))
                .and_then(Value::as_str);
            let line = loc
                .and_then(|l| l.pointer("/region/startLine"))
                .and_then(Value::as_u64);
            let column = loc
                .and_then(|l| l.pointer("/region/startColumn"))
                .and_then(Value::as_u64);
            out.push(Diagnostic {
                file: uri.map(|u| relative_path(u.strip_prefix("file://").unwrap_or(u), root)),
                line: line.and_then(|l| u32::try_from(l).ok()),
                column: column.and_then(|c| u32::try_from(c).ok()),
                level: r
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or("warning")
                    .to_ascii_lowercase(),
                rule: r
                    .get("ruleId")
                    .and_then(Value::as_str)
                    .unwrap_or("sarif")
                    .to_string(),
                message: r
                    .pointer("/message/text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                kind: DiagnosticKind::Lint,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_results_with_locations() {
        let log = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"results":[{"ruleId":"R1","level":"error","message":{"text":"bad"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/a.c"},"region":{"startLine":4,"startColumn":2}}}]}]}]}"#;
        let d = parse(log.as_bytes(), "/w").expect("parses");
        assert_eq!(d[0].file.as_deref(), Some("src/a.c"));
        assert_eq!((d[0].line, d[0].level.as_str()), (Some(4), "error"));
    }
}
