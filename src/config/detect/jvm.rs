//! Java and Kotlin builds: Maven's and Gradle's tests, read from the JUnit XML reports they
//! write. The system's `mvn` and `gradle` run them: `gradlew` is a program the repository
//! ships, and the auditor never runs one.

use super::super::raw::StageValue;
use super::propose::{DetectedCheck, check, seconds};
use super::tree::Tree;
use crate::parsers::Format;

/// The test command of a root pom.xml or Gradle build.
pub fn detect(tree: &Tree) -> Option<DetectedCheck> {
    if tree.has("pom.xml") {
        let mut t = check(
            "maven-test",
            StageValue::Test,
            &["mvn", "--batch-mode", "--quiet", "test"],
            Format::Junit,
        );
        t.junit = Some("**/target/surefire-reports/TEST-*.xml".into());
        t.timeout = Some(seconds(1800));
        return Some(DetectedCheck::new(
            "pom.xml: Maven's tests, read from surefire's JUnit reports",
            t,
        ));
    }
    let build = tree.first_of(&[
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "settings.gradle.kts",
    ])?;
    let mut t = check(
        "gradle-test",
        StageValue::Test,
        &["gradle", "--console=plain", "--quiet", "test"],
        Format::Junit,
    );
    t.junit = Some("**/build/test-results/test/*.xml".into());
    t.timeout = Some(seconds(1800));
    let wrapper = if tree.has("gradlew") {
        " (the system's gradle: gradlew is the repository's own program)"
    } else {
        ""
    };
    Some(DetectedCheck::new(
        format!("{build}: Gradle's tests, read from their JUnit reports{wrapper}"),
        t,
    ))
}
