//! `auditor report --html` and the page every audit keeps, opened in a real headless browser
//! (Debian's chromium, installed by `tests/run_tests.sh`): it loads with no error, its charts
//! are there, text from the repository stays text, and a screenshot is taken.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// A JUnit file of `passed` passing tests and `failed` failing ones.
fn junit(passed: usize, failed: usize) -> String {
    let mut s = format!(
        "<testsuite name=\"t\" tests=\"{}\" failures=\"{failed}\">",
        passed + failed
    );
    for i in 0..passed {
        s.push_str(&format!("<testcase classname=\"t\" name=\"ok{i}\"/>"));
    }
    for i in 0..failed {
        s.push_str(&format!(
            "<testcase classname=\"t\" name=\"bad{i}\"><failure message=\"boom\">boom</failure></testcase>"
        ));
    }
    s.push_str("</testsuite>\n");
    s
}

/// Headless chromium on `page` with `args`: (stdout, stderr).
fn chromium(page: &Path, profile: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium (Debian's package) runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_page_loads_in_a_real_browser_with_its_charts_and_escaped_text() {
    let repo = TestRepo::new();
    repo.write(
        "auditor.toml",
        "[policy]\nack = \"anyone\"\n\n[metrics]\ncoverage = \"lcov.info\"\n\n\
[[check]]\nname = \"shellcheck\"\ncommand = [\"shellcheck\", \"-f\", \"json1\", \"{files}\"]\nfiles = [\"*.sh\"]\nformat = \"shellcheck\"\n\n\
[[check]]\nname = \"tests\"\nstage = \"test\"\ncommand = [\"sh\", \"-c\", \"cp results.xml r.xml && cp coverage.txt lcov.info\"]\nformat = \"junit\"\njunit = \"r.xml\"\n",
    );
    let lcov = |hit: usize| format!("SF:a.py\nLF:10\nLH:{hit}\nend_of_record\n");
    // A file whose name is markup: the page must show it, not run it.
    repo.write("<img src=x onerror=alert(1)>.sh", "#!/bin/sh\necho $1\n");
    repo.write("b.sh", "#!/bin/sh\ncd /tmp\nrm $2\n");
    repo.write("keys.txt", format!("aws = \"{}\"\n", aws_key()));
    repo.write("results.xml", junit(3, 1));
    repo.write("coverage.txt", lcov(6));
    repo.commit("first <b>bold</b> try");
    repo.audit_json(&[]);
    repo.write("keys.txt", "aws = \"from the environment\"\n");
    repo.write("results.xml", junit(4, 0));
    repo.write("coverage.txt", lcov(8));
    repo.commit("fix [fix-SEC-001]");
    repo.audit_json(&[]);
    repo.ack_from_script("LINT-003", "quoting is deliberate");
    // A few more days of work: tests added, one broken and mended, coverage moving.
    for (n, (passed, failed, hit)) in [(5, 0, 8), (5, 2, 7), (7, 0, 9), (8, 0, 9)]
        .into_iter()
        .enumerate()
    {
        repo.write("results.xml", junit(passed, failed));
        repo.write("coverage.txt", lcov(hit));
        repo.commit(&format!("step {n}"));
        repo.audit_json(&[]);
    }
    repo.write("results.xml", junit(9, 0));
    repo.commit("more tests");
    let (_, last, _) = repo.audit_json(&[]);

    // Every audit rewrote the page; `report --html` writes one where it is asked to.
    let kept = repo.path().join("logs/audit/index.html");
    assert!(kept.is_file(), "each audit keeps logs/audit/index.html");
    let out = repo
        .auditor()
        .args(["report", "--html", "--output", "page/report.html"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(7 audits,"), "{stdout}");
    let to_stdout = repo
        .auditor()
        .args(["report", "--html", "-o", "-"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&to_stdout.stdout).starts_with("<!DOCTYPE html>"));
    let page = repo.path().join("page/report.html");
    let html = std::fs::read_to_string(&page).expect("page");
    // The last audit's verdict is the page's, though they all ended within a second or two.
    assert!(
        html.contains(&format!(
            "<b>{}</b>last verdict",
            last["status"].as_str().unwrap_or_default()
        )),
        "{html}"
    );
    // Self-contained: nothing to fetch, no script.
    assert!(html.contains("default-src 'none'"));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
    // The open lints are listed at their places, and link to their inbox files from where
    // the page is.
    assert!(html.contains("<code>b.sh:2</code>"), "{html}");
    // (Unfixed for seven commits, the MEDIUM lint escalated and has a file of its own.)
    assert!(
        html.contains("href=\"../tasks/supervisor_feedback/ISSUE_"),
        "{html}"
    );

    let profile = tempfile::tempdir().expect("profile");
    let (dom, log) = chromium(&page, profile.path(), &["--dump-dom"]);
    for id in [
        "verdicts",
        "severities",
        "pass-rate",
        "test-duration",
        "coverage",
        "rules",
    ] {
        assert!(
            dom.contains(&format!("<svg class=\"chart\" id=\"{id}\"")),
            "no {id} chart in {dom}"
        );
    }
    for table in ["open-issues", "escalations", "acknowledgements"] {
        assert!(
            dom.contains(&format!("id=\"{table}\"")),
            "no {table} in {dom}"
        );
    }
    // Markup from the repository is text in the DOM, never an element.
    assert!(!dom.contains("<img") && !dom.contains("<b>bold"), "{dom}");
    assert!(
        dom.contains("&lt;img src=x onerror=alert(1)&gt;.sh"),
        "{dom}"
    );
    // No error in the page: nothing refused, nothing thrown, nothing failed to load.
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "the page logged: {console:?}");
    for bad in ["Refused to", "Uncaught", "ERR_FILE_NOT_FOUND"] {
        assert!(!log.contains(bad), "{bad} in {log}");
    }
    let shot = std::env::var_os("AUDITOR_PAGE_SCREENSHOT")
        .map_or_else(|| repo.path().join("page.png"), std::path::PathBuf::from);
    let (_, log) = chromium(
        &page,
        profile.path(),
        &[
            "--window-size=1100,1900",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}
