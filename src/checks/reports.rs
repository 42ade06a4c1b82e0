//! The report files a test command writes: one JUnit file (`.auditor-junit.xml`), or every
//! file a glob matches (`**/target/surefire-reports/TEST-*.xml` for Maven, Gradle's
//! `**/build/test-results/test/*.xml`), read as one document.

use std::path::{Path, PathBuf};

/// Directories a report search never enters: they hold dependencies or history, never the
/// reports of this run.
const SKIPPED_DIRS: [&str; 3] = [".git", "node_modules", ".auditor-venv"];

/// How deep a report glob looks, and how many entries it reads at most.
const MAX_DEPTH: usize = 8;
const MAX_ENTRIES: usize = 200_000;

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The files under `workspace` that `pattern` names (itself, when it is no glob).
pub fn report_files(workspace: &Path, pattern: &str) -> Vec<PathBuf> {
    if !is_glob(pattern) {
        return vec![workspace.join(pattern)];
    }
    let Ok(glob) = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
    else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut stack = vec![(workspace.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return found;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let name = entry.file_name();
                if depth < MAX_DEPTH && !SKIPPED_DIRS.iter().any(|s| name == *s) {
                    stack.push((path, depth + 1));
                }
            } else if kind.is_file()
                && path
                    .strip_prefix(workspace)
                    .is_ok_and(|rel| glob.is_match(rel))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Reads the reports, at most `cap` bytes in all: one file as it is, several as the
/// `<testsuite>`s of one `<testsuites>` document. `None` when there is none.
pub fn read_reports(files: &[PathBuf], cap: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let read = |path: &Path, left: u64| -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        std::fs::File::open(path)
            .ok()?
            .take(left)
            .read_to_end(&mut buf)
            .ok()?;
        Some(buf)
    };
    match files {
        [] => None,
        [one] => read(one, cap),
        many => {
            let mut doc = b"<testsuites>\n".to_vec();
            let mut any = false;
            for file in many {
                let left = cap.saturating_sub(doc.len() as u64);
                let Some(body) = read(file, left) else {
                    continue;
                };
                any = true;
                doc.extend_from_slice(without_declaration(&body));
                doc.push(b'\n');
            }
            doc.extend_from_slice(b"</testsuites>\n");
            any.then_some(doc)
        }
    }
}

/// The document without its `<?xml ...?>` declaration, which may only open a document.
fn without_declaration(body: &[u8]) -> &[u8] {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"<?xml")
        && let Some(end) = memchr::memmem::find(trimmed, b"?>")
    {
        return &trimmed[end + 2..];
    }
    trimmed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_finds_every_module_s_reports_and_reads_them_as_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for module in ["core", "web"] {
            let reports = root.join(module).join("target/surefire-reports");
            std::fs::create_dir_all(&reports).expect("mkdir");
            std::fs::write(
                reports.join(format!("TEST-{module}.xml")),
                format!("<?xml version=\"1.0\"?>\n<testsuite name=\"{module}\"><testcase name=\"t\"/></testsuite>"),
            )
            .expect("write");
        }
        std::fs::create_dir_all(root.join("node_modules/x/target/surefire-reports"))
            .expect("mkdir");
        std::fs::write(
            root.join("node_modules/x/target/surefire-reports/TEST-x.xml"),
            "<x/>",
        )
        .expect("write");
        let files = report_files(root, "**/target/surefire-reports/TEST-*.xml");
        assert_eq!(files.len(), 2, "{files:?}");
        let doc = String::from_utf8(read_reports(&files, 1 << 20).expect("read")).expect("utf8");
        assert!(doc.starts_with("<testsuites>"), "{doc}");
        assert!(!doc.contains("<?xml"), "{doc}");
        assert!(doc.contains("name=\"core\"") && doc.contains("name=\"web\""));
        assert_eq!(report_files(root, "none/*.xml"), Vec::<PathBuf>::new());
        assert_eq!(
            report_files(root, "plain.xml"),
            vec![root.join("plain.xml")]
        );
    }
}
